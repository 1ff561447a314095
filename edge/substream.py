"""Sub-streams: a camera's low-resolution stream, which the detector reads instead of the main one.

IP cameras send a 1080p main stream and a small sub-stream (often 640x360). Decoding the small one
costs a fraction of the CPU, and regions (edge/regions.py) keep small objects visible in it. A
camera with a sub-stream is read only through it: detection, the evidence ring (which keeps
reduced-size frames anyway) and the preview; the main stream is never opened here, so its decoding
costs nothing (the canteen's NVR records it). `SubStreamFields` is the piece of a camera's config
that names it.
"""

from pydantic import BaseModel, ConfigDict, Field, field_validator

STREAM_SCHEMES = ("rtsp", "rtsps")


class SubStreamFields(BaseModel):
    """`sub_stream_url:` of a camera (a mixin for the camera's config model)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sub_stream_url: str | None = Field(
        default=None,
        min_length=1,
        description="rtsp:// URL or video file of the low-resolution stream to detect on",
    )

    @field_validator("sub_stream_url")
    @classmethod
    def _sub_stream_scheme(cls, url: str | None) -> str | None:
        if url is None:
            return None
        scheme, separator, _ = url.partition("://")
        if separator and scheme.lower() not in STREAM_SCHEMES:
            raise ValueError("must be an rtsp:// or rtsps:// URL or a video file path")
        return url


def detection_url(main_url: str, sub_stream_url: str | None) -> str:
    """The stream the detector reads: the sub-stream when the camera has one."""
    return sub_stream_url if sub_stream_url else main_url


def is_rtsp(url: str) -> bool:
    scheme, separator, _ = url.partition("://")
    return bool(separator) and scheme.lower() in STREAM_SCHEMES
