"""The edge config: one YAML file validated strictly, with secrets taken from the environment.

Any string may hold `${NAME}`, replaced by the environment variable NAME before validation, so
passwords need not sit in the file (`$${` writes a literal `${`). Relative paths are relative to
the working directory the edge runs in. Errors never echo the values they complain about: a
value may be a password or an RTSP URL with one.
"""

import os
import re
import sys
from collections.abc import Hashable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from contracts import Identifier, ViolationKind
from edge.errors import ConfigError
from edge.evidence.config import EvidenceConfig, PreviewConfig, UploadConfig
from edge.kitchen.build import kitchen_problems
from edge.kitchen.config import KitchenRulesConfig
from edge.metrics import MetricsConfig
from edge.motion import MotionConfig
from edge.regions import RegionConfig
from edge.scheduler import SchedulerConfig
from edge.substream import STREAM_SCHEMES, SubStreamFields, detection_url, is_rtsp
from edge.violation import DEFAULT_SEVERITY
from edge.zones import polygon_problem

_ENV_REFERENCE = re.compile(r"\$(\$?)\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

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


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that rejects a key given twice in one mapping instead of keeping the last."""

    def construct_mapping(
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[Hashable, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


def _yaml_problem(err: yaml.YAMLError) -> str:
    # str(err) quotes the offending line, which may hold a password: use the mark and problem only
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        return f"yaml: line {mark.line + 1}, column {mark.column + 1}: {err.problem}"
    return f"yaml: {type(err).__name__}"


def _key_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def _substitute(
    value: object, location: tuple[int | str, ...], env: Mapping[str, str], problems: list[str]
) -> object:
    if isinstance(value, dict):
        return {
            key: _substitute(item, (*location, str(key)), env, problems)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _substitute(item, (*location, index), env, problems) for index, item in enumerate(value)
        ]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return "${" + name + "}"
        if _ENV_NAME.fullmatch(name) is None:
            problems.append(f"{_key_path(location)}: '${{{name}}}' is not a valid variable name")
            return ""
        if name not in env:
            problems.append(f"{_key_path(location)}: environment variable {name} is not set")
            return ""
        return env[name]

    return _ENV_REFERENCE.sub(replace, value)


def _error_problem(error: ErrorDetails) -> str:
    # never error["input"]: it may be a password or a URL with one
    location = _key_path(tuple(error["loc"]))
    if error["type"] == "value_error":
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
    elif error["type"] == "extra_forbidden":
        reason = "unknown key"
    elif error["type"] == "missing":
        reason = "required"
    elif error["type"] == "string_pattern_mismatch":  # Identifier is our only pattern
        reason = "must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit"
    else:
        reason = error["msg"]
    return f"{location}: {reason}"


def _root_errors(err: ValidationError) -> list[ErrorDetails]:
    """The errors without a list's "too short" that only follows from its items' own errors."""
    errors = err.errors(include_input=False)
    failed_inside = {
        tuple(error["loc"][:end]) for error in errors for end in range(1, len(error["loc"]))
    }
    return [
        error
        for error in errors
        if not (error["type"] == "too_short" and tuple(error["loc"]) in failed_inside)
    ]


def _cross_problems(data: Mapping[str, object]) -> list[str]:
    """Checks across sections, run on the raw data so they show up next to schema errors."""
    problems: list[str] = []
    cameras = data.get("cameras")
    camera_ids: dict[str, int] = {}
    for index, camera in enumerate(cameras if isinstance(cameras, list) else []):
        camera_id = camera.get("id") if isinstance(camera, dict) else None
        if isinstance(camera_id, str):
            if camera_id in camera_ids:
                problems.append(
                    f"cameras.{index}.id: duplicate camera id {camera_id!r}"
                    f" (also cameras.{camera_ids[camera_id]}.id)"
                )
            else:
                camera_ids[camera_id] = index
    rules = data.get("rules")
    rule_ids: dict[str, int] = {}
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        rule_id = rule.get("id")
        if isinstance(rule_id, str):
            if rule_id in rule_ids:
                problems.append(
                    f"rules.{index}.id: duplicate rule id {rule_id!r}"
                    f" (also rules.{rule_ids[rule_id]}.id)"
                )
            else:
                rule_ids[rule_id] = index
        watched = rule.get("cameras")
        if isinstance(watched, list) and isinstance(cameras, list):
            problems.extend(
                f"rules.{index}.cameras: unknown camera {camera_id!r}"
                for camera_id in watched
                if isinstance(camera_id, str) and camera_id not in camera_ids
            )
    return problems


def load_config(path: Path, *, env: Mapping[str, str] | None = None) -> EdgeConfig:
    """Read and validate an edge config; raise ConfigError listing every problem found."""
    environment = os.environ if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(path, [f"(file): cannot read {path}: {type(err).__name__}"]) from err
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        raise ConfigError(path, [_yaml_problem(err)]) from err
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping of keys (site, edge, ...)"])
    problems: list[str] = []
    substituted = _substitute(data, (), environment, problems)
    assert isinstance(substituted, dict)
    problems.extend(_cross_problems(substituted))
    try:
        config = EdgeConfig.model_validate(substituted)
    except ValidationError as err:
        problems[:0] = [_error_problem(error) for error in _root_errors(err)]
        raise ConfigError(path, problems) from None
    if config.kitchen is not None:
        problems.extend(kitchen_problems(config.kitchen, [camera.id for camera in config.cameras]))
    if problems:
        raise ConfigError(path, problems)
    return config


def file_problems(config: EdgeConfig) -> list[str]:
    """Files the config uses that do not exist (here, now): model, enabled video files, TLS."""
    problems: list[str] = []
    if not config.model.path.is_file():
        problems.append(f"model.path: no such file {config.model.path}")
    for index, camera in enumerate(config.cameras):
        if camera.enabled and not camera.is_rtsp and not Path(camera.read_url).is_file():
            key = "url" if camera.sub_stream_url is None else "sub_stream_url"
            problems.append(f"cameras.{index}.{key}: no such video file {camera.read_url}")
    tls = config.mqtt.tls
    if tls is not None:
        for key in ("ca_file", "cert_file", "key_file"):
            value = getattr(tls, key)
            if value is not None and not value.is_file():
                problems.append(f"mqtt.tls.{key}: no such file {value}")
    return problems


def check_config(path: Path, *, env: Mapping[str, str] | None = None) -> int:
    """Print every problem of the config at `path` to stderr and return 1, or a summary and 0."""
    try:
        config = load_config(path, env=env)
        problems = file_problems(config)
    except ConfigError as err:
        problems = err.problems
    if problems:
        for problem in problems:
            sys.stderr.write(f"{problem}\n")
        sys.stderr.write(f"{path}: {len(problems)} problem(s)\n")
        return 1
    enabled = len(config.enabled_cameras)
    sys.stdout.write(
        f"ok: {path}: site={config.site} edge={config.edge}"
        f" cameras={len(config.cameras)} ({enabled} enabled) rules={len(config.rules)}"
        f" mqtt={config.mqtt.host}:{config.mqtt.port} tls={'on' if config.mqtt.tls else 'off'}"
        f" outbox={config.outbox.path} detector_instances={config.detector.workers}"
        f" motion={'on' if config.motion.enabled else 'off'}\n"
    )
    return 0
