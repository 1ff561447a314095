"""The generated marker video: format, timing, and the marker exactly inside its intervals."""

import itertools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from scenes.marker_video import MARKER_SIZE_PX, MarkerVideoError, write_marker_video
from tests.fixtures.rtsp import MARKER_INTERVALS_S, MARKER_VIDEO_DURATION_S, VIDEO_FPS, VIDEO_SIZE

RED_EXCESS = 100  # R - max(G, B) of a clearly red pixel; the marker is about 210


def red_pixels(rgb: NDArray[np.uint8]) -> int:
    pixels = rgb.astype(np.int16)
    excess = pixels[..., 0] - np.maximum(pixels[..., 1], pixels[..., 2])
    return int((excess > RED_EXCESS).sum())


def max_red_excess(rgb: NDArray[np.uint8]) -> int:
    pixels = rgb.astype(np.int16)
    return int((pixels[..., 0] - np.maximum(pixels[..., 1], pixels[..., 2])).max())


@pytest.fixture(scope="module")
def marker_frames(marker_video: Path) -> list[NDArray[np.uint8]]:
    return decode_rgb(marker_video)


def decode_rgb(path: Path) -> list[NDArray[np.uint8]]:
    with av.open(str(path)) as container:
        return [
            np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            for frame in container.decode(video=0)
        ]


def test_is_h264_yuv420p_at_the_requested_rate_and_length(marker_video: Path) -> None:
    with av.open(str(marker_video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == VIDEO_SIZE
        assert stream.average_rate == VIDEO_FPS
        # PyAV 18 refuses stream attributes once the container is closed: read them here
        duration, time_base = stream.duration, stream.time_base
        packets = [packet for packet in container.demux(stream) if packet.size > 0]
    assert len(packets) == MARKER_VIDEO_DURATION_S * VIDEO_FPS
    assert duration is not None
    assert time_base is not None
    assert float(duration * time_base) == pytest.approx(MARKER_VIDEO_DURATION_S)
    # no B-frames: decode order is presentation order
    pts = [packet.pts or 0 for packet in packets]
    assert pts == sorted(pts)
    assert all(packet.pts == packet.dts for packet in packets)
    # a keyframe every second, so RTSP clients that join late start fast
    keyframes = [index for index, packet in enumerate(packets) if packet.is_keyframe]
    assert keyframes == list(range(0, len(packets), VIDEO_FPS))


def test_marker_is_red_inside_its_intervals_and_nothing_is_red_outside(
    marker_frames: list[NDArray[np.uint8]],
) -> None:
    frames = marker_frames
    ((start_s, end_s),) = MARKER_INTERVALS_S
    inside = [i for i in range(len(frames)) if start_s <= i / VIDEO_FPS < end_s]
    outside = [i for i in range(len(frames)) if i not in inside]
    assert (inside[0], inside[-1]) == (30, 89)
    # the whole square, give or take its chroma-subsampled edge
    assert min(red_pixels(frames[i]) for i in inside) >= (MARKER_SIZE_PX - 4) ** 2
    assert max(max_red_excess(frames[i]) for i in outside) < 40


def test_plain_video_never_shows_red(plain_video: Path) -> None:
    assert max(max_red_excess(rgb) for rgb in decode_rgb(plain_video)) < 40


def test_consecutive_frames_differ(plain_video: Path) -> None:
    frames = decode_rgb(plain_video)[:5]
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))


def test_marker_moves_and_keeps_its_size(marker_frames: list[NDArray[np.uint8]]) -> None:
    first, last = marker_frames[30], marker_frames[89]

    def columns(rgb: NDArray[np.uint8]) -> NDArray[np.intp]:
        pixels = rgb.astype(np.int16)
        excess = pixels[..., 0] - np.maximum(pixels[..., 1], pixels[..., 2])
        return np.nonzero((excess > RED_EXCESS).any(axis=0))[0]

    assert columns(last)[0] > columns(first)[0]
    assert len(columns(first)) >= MARKER_SIZE_PX - 2


def test_same_seed_same_video_other_seed_other_video(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("a.mp4", "b.mp4", "c.mp4")]
    for path, seed in zip(paths, (3, 3, 4), strict=True):
        write_marker_video(path, duration_s=0.5, fps=10, size=(256, 144), seed=seed)
    a, b, c = (decode_rgb(path) for path in paths)
    assert len(a) == 5
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_several_intervals_and_other_rates(tmp_path: Path) -> None:
    path = tmp_path / "two.mp4"
    write_marker_video(
        path, duration_s=2.0, fps=5, size=(256, 144), marker_intervals_s=((0.2, 0.6), (1.4, 1.8))
    )
    with av.open(str(path)) as container:
        assert container.streams.video[0].average_rate == Fraction(5)
    shown = [red_pixels(rgb) > 0 for rgb in decode_rgb(path)]
    assert shown == [False, True, True, False, False, False, False, True, True, False]


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"duration_s": 0.0}, "duration_s"),
        ({"duration_s": 1.0, "fps": 0}, "fps"),
        ({"duration_s": 1.0, "size": (641, 360)}, "size"),
        ({"duration_s": 1.0, "size": (100, 100)}, "size"),
        ({"duration_s": 1.0, "marker_intervals_s": ((5.0, 2.0),)}, "marker_intervals_s"),
    ],
)
def test_rejects_impossible_arguments_naming_them(
    tmp_path: Path, kwargs: dict[str, object], names: str
) -> None:
    with pytest.raises(MarkerVideoError, match=names):
        write_marker_video(tmp_path / "x.mp4", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "x.mp4").exists()
