"""Clips: H.264 in MP4 with the moov atom first, real-speed timestamps, even dimensions."""

import struct
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest

from edge.evidence.clip import encode_clip
from edge.evidence.errors import ClipError
from edge.evidence.ring import FrameRing, RingFrame
from tests.edge.evidence.frames import marked_frame, read_marker


def ring_frames(times_s: list[float], *, width: int = 320, height: int = 180) -> list[RingFrame]:
    ring = FrameRing("cam-1", seconds=600.0, fps=30.0, max_width_px=width)
    for index, t_s in enumerate(times_s):
        assert ring.append(marked_frame(t_s, index, width=width, height=height))
    return ring.frames()


def top_level_atoms(path: Path) -> list[str]:
    """The MP4's top-level box types in file order."""
    data = path.read_bytes()
    atoms, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
        atoms.append(kind.decode("ascii"))
        if size < 8:
            break
        offset += size
    return atoms


def probe(path: Path) -> tuple[str, str, str, float, list[float], list[int]]:
    """(container format, codec, pixel format, duration_s, frame times, frame markers)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [
            (
                float(frame.time or 0.0),
                read_marker(np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)),
            )
            for frame in container.decode(stream)
        ]
        duration_s = float(container.duration or 0) / av.time_base
        return (
            container.format.name,
            stream.codec_context.name,
            str(stream.codec_context.pix_fmt),
            duration_s,
            [t for t, _ in frames],
            [m for _, m in frames],
        )


def test_a_clip_is_h264_in_mp4_with_faststart(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    info = encode_clip(ring_frames([i / 10 for i in range(30)]), path)
    fmt, codec, pix_fmt, duration_s, _, markers = probe(path)
    assert "mp4" in fmt.split(",")
    assert codec == "h264"
    assert pix_fmt == "yuv420p"
    atoms = top_level_atoms(path)
    assert atoms.index("moov") < atoms.index("mdat"), atoms  # faststart: playable while loading
    assert atoms[0] == "ftyp"
    assert markers == list(range(30))
    assert info.frames == 30
    assert duration_s == pytest.approx(3.0, abs=0.11)
    assert info.duration_s == pytest.approx(3.0, abs=0.01)


def test_frames_play_at_the_times_they_were_captured(tmp_path: Path) -> None:
    # 5 fps for 2 s, a 1.5 s gap (the camera stalled), then 10 fps for 1 s
    times = [i / 5 for i in range(10)] + [3.5 + i / 10 for i in range(10)]
    path = tmp_path / "clip.mp4"
    encode_clip(ring_frames(times), path)
    _, _, _, _, played, markers = probe(path)
    assert markers == list(range(20))
    assert played == pytest.approx(times, abs=0.002)


def test_odd_sizes_become_even_and_a_size_change_is_scaled(tmp_path: Path) -> None:
    frames = ring_frames([0.0, 0.1, 0.2], width=321, height=181)
    other_size = ring_frames([0.3], width=160, height=90)
    path = tmp_path / "clip.mp4"
    info = encode_clip([*frames, *other_size], path)
    assert (info.width, info.height) == (320, 180)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert sum(1 for _ in container.decode(stream)) == 4


def test_no_frames_is_an_error_and_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(ClipError, match="no frames"):
        encode_clip([], tmp_path / "clip.mp4")
    assert not (tmp_path / "clip.mp4").exists()


def test_frames_given_out_of_order_are_sorted(tmp_path: Path) -> None:
    frames = ring_frames([i / 10 for i in range(10)])
    path = tmp_path / "clip.mp4"
    encode_clip(list(reversed(frames)), path)
    assert probe(path)[5] == list(range(10))
    assert frames[0].captured_at + timedelta(seconds=0.9) == frames[-1].captured_at
