"""The `evidence:`, `upload:` and `preview:` sections of the edge config (pydantic only: cheap
to import for --check-config)."""

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

MIB = 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class X264Preset(StrEnum):
    """The libx264 presets cheap enough for an edge box (slower ones cost minutes of CPU)."""

    ULTRAFAST = "ultrafast"
    SUPERFAST = "superfast"
    VERYFAST = "veryfast"
    FASTER = "faster"
    FAST = "fast"


class EvidenceConfig(_Strict):
    """Ring buffers, clips, snapshots and the local store of evidence waiting for upload."""

    directory: Path = Field(description="where clips, snapshots and the index are kept")
    quota_mb: float = Field(default=2048.0, gt=0.0, description="MiB of evidence kept on disk")
    ring_s: float = Field(default=20.0, gt=0.0, le=120.0, description="seconds kept per camera")
    ring_fps: float = Field(default=10.0, gt=0.0, le=30.0, description="frames kept per second")
    ring_width_px: int = Field(default=640, ge=64, le=3840, description="kept frames' max width")
    ring_jpeg_quality: int = Field(default=80, ge=30, le=100)
    pre_s: float = Field(default=5.0, ge=0.0, le=120.0, description="clip seconds before")
    post_s: float = Field(default=10.0, gt=0.0, le=120.0, description="clip seconds after")
    post_grace_s: float = Field(
        default=5.0, ge=0.0, le=120.0, description="wait this long past post_s for late frames"
    )
    clip_preset: X264Preset = X264Preset.VERYFAST
    clip_crf: int = Field(default=26, ge=0, le=51, description="x264 quality: lower is better")
    max_pending_clips: int = Field(
        default=8, ge=1, le=256, description="clips collecting or encoding at once; more refused"
    )
    snapshot_width_px: int = Field(default=1920, ge=64, le=7680)
    snapshot_jpeg_quality: int = Field(default=90, ge=30, le=100)

    @model_validator(mode="after")
    def _pre_fits_the_ring(self) -> Self:
        if self.pre_s > self.ring_s:
            raise ValueError(f"pre_s ({self.pre_s:g}) must not exceed ring_s ({self.ring_s:g})")
        return self

    @property
    def quota_bytes(self) -> int:
        return int(self.quota_mb * MIB)


class UploadConfig(_Strict):
    """Where evidence and previews go: the central API, with this edge's device token."""

    base_url: str = Field(min_length=1, description="http(s)://host[:port] of the central API")
    token: SecretStr = Field(description="the edge's device token; write ${EDGE_API_TOKEN}")
    timeout_s: float = Field(default=30.0, gt=0.0, le=600.0)
    ca_file: Path | None = Field(default=None, description="absent: the system's CAs")
    retry_initial_s: float = Field(default=1.0, gt=0.0, le=600.0)
    retry_max_s: float = Field(default=300.0, gt=0.0, le=86400.0)
    not_found_retry_s: float = Field(
        default=900.0,
        ge=0.0,
        le=7 * 86400.0,
        description="how long a 404 means 'the violation has not arrived yet' before parking",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        scheme, separator, rest = url.partition("://")
        if not separator or scheme.lower() not in ("http", "https") or not rest.strip("/"):
            raise ValueError("must be an http:// or https:// URL")
        if "@" in rest.split("/", 1)[0]:
            raise ValueError("must not hold credentials: the token goes in `token`")
        return url.rstrip("/")

    @field_validator("token")
    @classmethod
    def _token_present(cls, token: SecretStr) -> SecretStr:
        if not token.get_secret_value().strip():
            raise ValueError("must not be empty")
        return token

    @model_validator(mode="after")
    def _backoff_order(self) -> Self:
        if self.retry_initial_s > self.retry_max_s:
            raise ValueError("retry_initial_s must not exceed retry_max_s")
        return self


class PreviewFallback(StrEnum):
    """What hides faces when there are no fresh detections."""

    SKIN = "skin"  # skin-toned blobs, grown (no model needed)
    BLUR_FRAME = "blur_frame"  # the whole frame: nothing recognisable leaves
    NONE = "none"  # nothing: only for a camera that never sees people


class PreviewConfig(_Strict):
    """The `preview:` section: the parents' live view (edge/preview.py)."""

    enabled: bool = True
    fps: float = Field(default=1.0, gt=0.0, le=10.0, description="previews per second per camera")
    width_px: int = Field(default=640, ge=64, le=1920, description="preview width (height scales)")
    jpeg_quality: int = Field(default=70, ge=30, le=95)
    timeout_s: float = Field(default=5.0, gt=0.0, le=60.0, description="per upload")
    detections_max_age_s: float = Field(default=2.0, gt=0.0, le=60.0)
    fallback: PreviewFallback = PreviewFallback.SKIN
    skin_always: bool = Field(
        default=True, description="blur skin-toned blobs even with fresh detections"
    )
    face_margin: float = Field(default=0.25, ge=0.0, le=2.0, description="grow face boxes by")
    person_head_fraction: float = Field(
        default=0.35, gt=0.0, le=1.0, description="top part of a person box treated as the head"
    )
