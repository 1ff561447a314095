"""The edge config's schema: every section, validated strictly (edge.config_file reads the file).

Relative paths are relative to the working directory the edge runs in.
"""

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from contracts import Identifier, ViolationKind
from edge.evidence.config import EvidenceConfig, PreviewConfig, UploadConfig
from edge.kitchen.config import KitchenRulesConfig
from edge.metrics import MetricsConfig
from edge.motion import MotionConfig
from edge.regions import RegionConfig
from edge.scheduler import SchedulerConfig
from edge.substream import STREAM_SCHEMES, SubStreamFields, detection_url, is_rtsp
from edge.violation import DEFAULT_SEVERITY
from edge.zones import polygon_problem

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class CameraConfig(_Strict, SubStreamFields):
    """A camera; with `sub_stream_url` the edge reads only that stream (edge/substream.py)."""

    id: Identifier
    url: str = Field(min_length=1, description="rtsp://user:pass@host/path, or a video file path")
    detect_fps: float = Field(default=5.0, gt=0.0, le=30.0)
    stall_timeout_s: float = Field(default=5.0, gt=0.0, le=300.0)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _rtsp_or_file(cls, url: str) -> str:
        scheme, separator, _ = url.partition("://")
        if separator and scheme.lower() not in STREAM_SCHEMES:
            raise ValueError("must be an rtsp:// or rtsps:// URL or a video file path")
        return url

    @property
    def read_url(self) -> str:
        """The stream the edge reads: the sub-stream when the camera has one, else `url`."""
        return detection_url(self.url, self.sub_stream_url)

    @property
    def is_rtsp(self) -> bool:
        """Whether the stream the edge reads is RTSP (else a video file, played in a loop)."""
        return is_rtsp(self.read_url)


class ZoneConfig(_Strict):
    id: Identifier
    polygon: tuple[tuple[Fraction, Fraction], ...] = Field(
        min_length=3, description="[[x, y], ...] as fractions of the frame width and height"
    )

    @field_validator("polygon")
    @classmethod
    def _valid_polygon(
        cls, polygon: tuple[tuple[float, float], ...]
    ) -> tuple[tuple[float, float], ...]:
        problem = polygon_problem(polygon)
        if problem is not None:
            raise ValueError(problem)
        return polygon


class RuleConfig(_Strict):
    """A rule: label L present in zone Z for at least T seconds -> a violation, then a cooldown."""

    id: Identifier
    kind: ViolationKind
    label: str = Field(min_length=1, max_length=64)
    cameras: Annotated[tuple[Identifier, ...], Field(min_length=1)] | None = Field(
        default=None, description='camera ids, or "all" (the default)'
    )
    zone: ZoneConfig | None = Field(default=None, description="absent: the whole frame")
    min_duration_s: float = Field(default=3.0, ge=0.0)
    cooldown_s: float = Field(default=30.0, ge=0.0)
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    severity: int = Field(default=3, ge=1, le=3, description="default: the kind's usual tier")

    @model_validator(mode="before")
    @classmethod
    def _default_severity(cls, data: object) -> object:
        if isinstance(data, dict) and "severity" not in data:
            kind = data.get("kind")
            if isinstance(kind, str) and kind in set(ViolationKind):
                return {**data, "severity": DEFAULT_SEVERITY[ViolationKind(kind)]}
        return data

    @field_validator("cameras", mode="before")
    @classmethod
    def _all_cameras(cls, cameras: object) -> object:
        return None if cameras == "all" else cameras

    def watches(self, camera_id: str) -> bool:
        return self.cameras is None or camera_id in self.cameras


class ModelConfig(_Strict):
    path: Path
    confidence: float = Field(default=0.25, ge=0.0, le=1.0)
    iou: float = Field(default=0.45, gt=0.0, le=1.0)
    threads: int = Field(default=2, ge=1, le=64)


class TlsConfig(_Strict):
    ca_file: Path | None = Field(default=None, description="absent: the system's CAs")
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = Field(default=False, description="skip the host name check (testing only)")

    @model_validator(mode="after")
    def _cert_with_key(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: give both or neither")
        return self


class MqttConfig(_Strict):
    host: str = Field(min_length=1)
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    tls: TlsConfig | None = None
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    client_id: Identifier | None = Field(default=None, description="default: bk-<site>-<edge>")

    @model_validator(mode="after")
    def _password_needs_user(self) -> Self:
        if self.password is not None and self.username is None:
            raise ValueError("a password needs a username")
        return self


class OutboxConfig(_Strict):
    path: Path


class EdgeConfig(_Strict):
    site: Identifier
    edge: Identifier
    cameras: tuple[CameraConfig, ...] = Field(min_length=1)
    model: ModelConfig
    rules: tuple[RuleConfig, ...] = ()
    mqtt: MqttConfig
    outbox: OutboxConfig
    # the kitchen rules (no_hat, no_mask, rodent, uncovered_food, camera health); absent: off,
    # `kitchen: {}`: every rule with its defaults
    kitchen: KitchenRulesConfig | None = None
    # clips and snapshots kept on disk until the API acknowledged them; absent: no evidence
    evidence: EvidenceConfig | None = None
    # where evidence and previews go (the central API, with this edge's device token)
    upload: UploadConfig | None = None
    # the parents' live view: low-rate, downscaled, faces blurred here; needs `upload`
    preview: PreviewConfig | None = None
    # `GET /metrics` in Prometheus' text format; absent: no endpoint
    metrics: MetricsConfig | None = None
    # motion gating: detect on motion, active tracks and keep-alives (`enabled: false`: every
    # sampled frame is detected on the whole frame)
    motion: MotionConfig = Field(default_factory=MotionConfig)
    # crops around motion and tracks at the model's input size, so small objects stay large
    regions: RegionConfig = Field(default_factory=RegionConfig)
    # the shared detector: model instances side by side, splitting model.threads between them
    detector: SchedulerConfig = Field(default_factory=SchedulerConfig)
    status_interval_s: float = Field(default=30.0, gt=0.0, le=3600.0)
    log_level: LogLevel = LogLevel.INFO

    @model_validator(mode="after")
    def _preview_needs_upload(self) -> Self:
        if self.preview is not None and self.preview.enabled and self.upload is None:
            raise ValueError("preview needs an upload section (where to send the frames)")
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @property
    def enabled_cameras(self) -> tuple[CameraConfig, ...]:
        return tuple(camera for camera in self.cameras if camera.enabled)

    @property
    def mqtt_client_id(self) -> str:
        return self.mqtt.client_id or f"bk-{self.site}-{self.edge}"
