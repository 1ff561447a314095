"""FrameRing: keeps only the last N seconds, at a reduced rate and size, in bounded memory."""

import threading
from datetime import timedelta

import numpy as np
import pytest

from edge.evidence.ring import FrameRing
from tests.edge.evidence.frames import marked_frame, read_marker
from tests.fixtures.edge import T0


def test_keeps_only_the_last_seconds() -> None:
    ring = FrameRing("cam-1", seconds=2.0, fps=10.0)
    for index in range(100):  # 10 s at 10 fps
        ring.append(marked_frame(index / 10, index))
    kept = ring.frames()
    newest = kept[-1].captured_at
    assert newest == T0 + timedelta(seconds=9.9)
    assert kept[0].captured_at >= newest - timedelta(seconds=2.0)
    assert len(kept) == 21  # 7.9 s .. 9.9 s
    assert [read_marker(f.decode()) for f in kept] == list(range(79, 100))


def test_keeps_up_to_fps_despite_jitter() -> None:
    ring = FrameRing("cam-1", seconds=30.0, fps=10.0)
    rng = np.random.default_rng(1)
    # a 10 fps camera with +-30 ms of jitter: every frame is kept
    times = [i / 10 + rng.uniform(-0.03, 0.03) for i in range(50)]
    kept = [ring.append(marked_frame(t, i)) for i, t in enumerate(times)]
    assert all(kept)
    # then a 30 fps camera: about one frame in three
    ring = FrameRing("cam-1", seconds=30.0, fps=10.0)
    kept_count = sum(ring.append(marked_frame(i / 30, i)) for i in range(300))  # 10 s
    assert 99 <= kept_count <= 101


def test_downscales_to_the_max_width() -> None:
    ring = FrameRing("cam-1", max_width_px=640)
    ring.append(marked_frame(0.0, 7, width=1920, height=1080))
    (stored,) = ring.frames()
    assert (stored.width, stored.height) == (640, 360)
    assert stored.decode().shape == (360, 640, 3)
    assert read_marker(stored.decode()) == 7
    ring.append(marked_frame(1.0, 8, width=320, height=240))  # smaller: kept as it is
    assert (ring.frames()[-1].width, ring.frames()[-1].height) == (320, 240)


def test_memory_is_bounded_and_stops_growing_once_full() -> None:
    ring = FrameRing("cam-1", seconds=5.0, fps=10.0, max_width_px=640, jpeg_quality=80)
    raw_frame_bytes = 640 * 360 * 3
    at_full = 0
    for index in range(150):  # 15 s of 720p frames at 10 fps
        ring.append(marked_frame(index / 10, index, width=1280, height=720))
        if index == 60:
            at_full = ring.memory_bytes
    assert len(ring) == 51
    # noise is JPEG's worst case, and still far below raw frames
    assert ring.memory_bytes < 51 * raw_frame_bytes / 3
    assert ring.memory_bytes <= at_full * 1.1
    assert ring.memory_bytes == sum(len(f.jpeg) for f in ring.frames())


def test_collect_gets_the_pre_part_now_and_the_post_part_as_it_arrives() -> None:
    ring = FrameRing("cam-1", seconds=20.0, fps=10.0)
    for index in range(100):  # 0 .. 9.9 s
        ring.append(marked_frame(index / 10, index))
    collector = ring.collect(T0 + timedelta(seconds=5.0), T0 + timedelta(seconds=12.0))
    assert not collector.complete
    assert collector.frames()[0].captured_at == T0 + timedelta(seconds=5.0)
    assert len(collector.frames()) == 50
    for index in range(100, 150):  # 10 .. 14.9 s
        ring.append(marked_frame(index / 10, index))
    assert collector.complete
    assert ring.collecting == 0
    frames = collector.frames()
    assert [read_marker(f.decode()) for f in frames] == list(range(50, 121))


def test_collect_of_a_window_already_in_the_ring_is_complete_at_once() -> None:
    ring = FrameRing("cam-1", seconds=20.0, fps=10.0)
    for index in range(100):
        ring.append(marked_frame(index / 10, index))
    collector = ring.collect(T0 + timedelta(seconds=1.0), T0 + timedelta(seconds=2.0))
    assert collector.complete
    assert collector.wait(timeout_s=0.0)
    assert len(collector.frames()) == 11
    assert ring.collecting == 0


def test_append_from_a_camera_thread_while_another_reads() -> None:
    ring = FrameRing("cam-1", seconds=3.0, fps=10.0)
    done = threading.Event()
    problems: list[str] = []

    def reader() -> None:
        while not done.is_set():
            times = [f.captured_at for f in ring.frames()]
            if times != sorted(times):
                problems.append("out of order")
            if times and times[-1] - times[0] > timedelta(seconds=3.0):
                problems.append("older than the window")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for index in range(200):
            ring.append(marked_frame(index / 10, index, width=320, height=180))
    finally:
        done.set()
        thread.join()
    assert problems == []
    assert len(ring) == 31


@pytest.mark.parametrize(
    "kwargs",
    [{"seconds": 0.0}, {"fps": 0.0}, {"max_width_px": 1}, {"jpeg_quality": 0}],
)
def test_rejects_nonsense_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        FrameRing("cam-1", **kwargs)  # type: ignore[arg-type]
