"""A generated kitchen video in which a red square marker shows during chosen intervals."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from scenes.errors import SceneError

MARKER_RGB = (230, 20, 20)
MARKER_SIZE_PX = 64

_TILE_PX = 40
_GROUT_PX = 2
_WALL_FRACTION = 0.62
_NOISE_AMPLITUDE = 6
_GOP_FRAMES = 10


class MarkerVideoError(SceneError):
    """The arguments cannot describe a video (bad size, fps, duration or intervals)."""


def write_marker_video(
    path: Path,
    *,
    duration_s: float,
    fps: int = 10,
    size: tuple[int, int] = (640, 360),
    marker_intervals_s: tuple[tuple[float, float], ...] = ((3.0, 9.0),),
    seed: int = 0,
) -> None:
    """Write an H.264 MP4 (yuv420p, no B-frames, short GOP) of a tiled wall and a steel counter.

    A saturated red square (RGB about MARKER_RGB, MARKER_SIZE_PX wide) drifts along the counter's
    back edge while the presentation time t_s = index / fps lies in one of marker_intervals_s
    [start, end); no other pixel in the picture is strongly red. A grey pan slides back and forth
    and every frame carries a little noise, so consecutive frames differ. The picture content
    depends only on the arguments.
    """
    width, height = size
    _validate(
        duration_s=duration_s, fps=fps, width=width, height=height, intervals=marker_intervals_s
    )
    rng = np.random.default_rng(seed)
    background = _background(width, height, rng)
    frame_count = round(duration_s * fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = _GOP_FRAMES
        stream.codec_context.max_b_frames = 0
        stream.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "crf": "23",
            # a keyframe every GOP so an RTSP client that joins late starts within a second
            "x264-params": (
                f"keyint={_GOP_FRAMES}:min-keyint={_GOP_FRAMES}:scenecut=0:bframes=0"
                # one slice per picture, so an RTP client gets each picture as one packet
                ":sliced-threads=0"
            ),
        }
        for index in range(frame_count):
            t_s = index / fps
            rgb = _render(background, index=index, t_s=t_s, intervals=marker_intervals_s, rng=rng)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def marker_visible_at(t_s: float, intervals: tuple[tuple[float, float], ...]) -> bool:
    """Whether the marker is drawn in the frame presented at t_s."""
    return any(start_s <= t_s < end_s for start_s, end_s in intervals)


def _validate(
    *,
    duration_s: float,
    fps: int,
    width: int,
    height: int,
    intervals: tuple[tuple[float, float], ...],
) -> None:
    if duration_s <= 0:
        raise MarkerVideoError(f"duration_s must be positive, got {duration_s}")
    if fps <= 0:
        raise MarkerVideoError(f"fps must be positive, got {fps}")
    if width % 2 or height % 2 or width < 2 * MARKER_SIZE_PX or height < 2 * MARKER_SIZE_PX:
        raise MarkerVideoError(
            f"size must be even and at least {2 * MARKER_SIZE_PX} px each way, got {width}x{height}"
        )
    for start_s, end_s in intervals:
        if not 0 <= start_s < end_s:
            raise MarkerVideoError(
                f"marker_intervals_s needs 0 <= start < end, got ({start_s}, {end_s})"
            )


def _background(width: int, height: int, rng: np.random.Generator) -> NDArray[np.int16]:
    """Cream tiles with grey grout above a brushed-steel counter; no red anywhere."""
    image = np.empty((height, width, 3), dtype=np.int16)
    wall_h = int(height * _WALL_FRACTION)
    # slightly different tiles so the wall is not perfectly uniform
    rows, cols = (wall_h // _TILE_PX) + 1, (width // _TILE_PX) + 1
    tile_shade = rng.integers(-8, 9, size=(rows, cols), dtype=np.int16)
    ys, xs = np.mgrid[0:wall_h, 0:width]
    shade = tile_shade[ys // _TILE_PX, xs // _TILE_PX]
    grout = ((ys % _TILE_PX) < _GROUT_PX) | ((xs % _TILE_PX) < _GROUT_PX)
    wall = np.stack([225 + shade, 228 + shade, 222 + shade], axis=-1)
    wall[grout] = (150, 155, 158)
    image[:wall_h] = wall
    # counter: a vertical gradient with horizontal brushing streaks
    counter_h = height - wall_h
    gradient = np.linspace(190, 120, counter_h, dtype=np.float32)[:, None]
    streaks = rng.normal(0.0, 6.0, size=(counter_h, 1)).astype(np.float32)
    steel = np.broadcast_to(gradient + streaks, (counter_h, width)).astype(np.int16)
    image[wall_h:] = np.stack([steel, steel + 4, steel + 8], axis=-1)
    image[wall_h : wall_h + 4] = (90, 95, 100)  # the counter's front edge
    return image


def _render(
    background: NDArray[np.int16],
    *,
    index: int,
    t_s: float,
    intervals: tuple[tuple[float, float], ...],
    rng: np.random.Generator,
) -> NDArray[np.uint8]:
    height, width = background.shape[:2]
    image = background.copy()
    wall_h = int(height * _WALL_FRACTION)
    # a dark grey pan sliding along the counter: a moving element that is never red
    pan_w, pan_h = width // 6, height // 10
    travel = width - pan_w
    phase = (index * 4) % (2 * travel)
    pan_x = phase if phase < travel else 2 * travel - phase
    pan_y = wall_h + (height - wall_h) // 2
    image[pan_y : pan_y + pan_h, pan_x : pan_x + pan_w] = (70, 72, 76)
    image += rng.integers(-_NOISE_AMPLITUDE, _NOISE_AMPLITUDE + 1, size=image.shape, dtype=np.int16)
    if marker_visible_at(t_s, intervals):
        # the marker drifts slowly to the right above the pan, on the wall/counter boundary
        x = int(width * 0.2 + (t_s * 8.0) % (width * 0.5))
        y = wall_h - MARKER_SIZE_PX // 2
        image[y : y + MARKER_SIZE_PX, x : x + MARKER_SIZE_PX] = MARKER_RGB
    return np.clip(image, 0, 255).astype(np.uint8)
