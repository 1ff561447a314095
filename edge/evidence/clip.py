"""Encode ring frames into an H.264 MP4 that browsers play: libx264, yuv420p, faststart.

Presentation times come from each frame's captured_at (milliseconds from the first frame), so a
clip plays at real speed whatever rate the camera delivered. Dimensions are made even (yuv420p
needs it) by dropping the last row or column; a frame of another size (the camera changed its
resolution) is resized to the first frame's.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import cv2
import numpy as np
from numpy.typing import NDArray

from edge.evidence.config import X264Preset
from edge.evidence.errors import ClipError
from edge.evidence.ring import RingFrame

_MS = Fraction(1, 1000)


@dataclass(frozen=True, slots=True)
class ClipInfo:
    path: Path
    frames: int
    duration_s: float  # from the first frame's captured_at to one interval past the last
    width: int
    height: int


def _fit(image: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    if (
        image.shape[1] >= width
        and image.shape[0] >= height
        and (image.shape[1] - width <= 1 and image.shape[0] - height <= 1)
    ):
        return np.ascontiguousarray(image[:height, :width])
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return np.asarray(resized, dtype=np.uint8)


def encode_clip(
    frames: Sequence[RingFrame],
    path: Path,
    *,
    preset: X264Preset = X264Preset.VERYFAST,
    crf: int = 26,
    fps_hint: float = 10.0,
    threads: int = 1,
) -> ClipInfo:
    """Write `frames` (oldest first) to `path` as H.264 MP4 with the moov atom first.

    threads=1 by default: a clip is not urgent, the camera threads are.
    """
    ordered = sorted(frames, key=lambda frame: frame.captured_at)
    if not ordered:
        raise ClipError(f"no frames to encode into {path.name}")
    width, height = ordered[0].width & ~1, ordered[0].height & ~1
    if width < 2 or height < 2:
        raise ClipError(f"frames of {ordered[0].width}x{ordered[0].height} are too small")
    start = ordered[0].captured_at
    written = 0
    last_pts = -1
    try:
        with av.open(
            str(path), mode="w", format="mp4", options={"movflags": "+faststart"}
        ) as container:
            stream = container.add_stream(
                "libx264", rate=Fraction(fps_hint).limit_denominator(1000)
            )
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.time_base = _MS
            stream.codec_context.time_base = _MS
            stream.codec_context.thread_count = threads
            stream.options = {"preset": preset.value, "crf": str(crf)}
            for ring_frame in ordered:
                pts = round((ring_frame.captured_at - start).total_seconds() * 1000)
                if pts <= last_pts:
                    continue  # two frames within a millisecond: the first one stands
                video_frame = av.VideoFrame.from_ndarray(
                    _fit(ring_frame.decode(), width, height), format="bgr24"
                )
                video_frame.pts = pts
                video_frame.time_base = _MS
                container.mux(stream.encode(video_frame))
                last_pts = pts
                written += 1
            container.mux(stream.encode(None))
    except (av.error.FFmpegError, OSError, ValueError) as err:
        path.unlink(missing_ok=True)
        raise ClipError(f"cannot encode {path.name}: {err}") from err
    interval_s = 1.0 / fps_hint
    if written > 1:
        interval_s = last_pts / 1000 / (written - 1)
    return ClipInfo(
        path=path,
        frames=written,
        duration_s=last_pts / 1000 + interval_s,
        width=width,
        height=height,
    )
