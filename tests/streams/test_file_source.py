"""FileFrameSource: decodes, loops, paces like a camera, and names the path it cannot open."""

import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from streams.errors import SourceOpenError
from streams.file import FileFrameSource
from tests.fixtures.rtsp import VIDEO_FPS, VIDEO_SIZE


@pytest.fixture(scope="module")
def one_second_video(videos_dir: Path) -> Path:
    from scenes.marker_video import write_marker_video

    path = videos_dir / "one_second.mp4"
    if not path.exists():
        write_marker_video(path, duration_s=1.0, fps=VIDEO_FPS, size=(256, 144))
    return path


def test_reads_every_frame_once_without_loop(one_second_video: Path) -> None:
    source = FileFrameSource("cam1", one_second_video, loop=False, realtime=False)
    frames = list(source.frames())
    assert [frame.index for frame in frames] == list(range(VIDEO_FPS))
    assert {frame.image.shape for frame in frames} == {(144, 256, 3)}
    assert all(frame.camera_id == "cam1" for frame in frames)
    assert all(frame.captured_at.utcoffset() is not None for frame in frames)
    assert source.fps == VIDEO_FPS


def test_loops_with_increasing_indexes(one_second_video: Path) -> None:
    source = FileFrameSource("cam1", one_second_video, loop=True, realtime=False)
    frames = source.frames()
    indexes = [next(frames).index for _ in range(3 * VIDEO_FPS + 5)]
    source.close()
    assert indexes == list(range(3 * VIDEO_FPS + 5))
    assert list(frames) == []  # closed: the iterator ends


def test_decodes_the_real_picture_in_bgr(marker_video: Path) -> None:
    source = FileFrameSource("cam1", marker_video, loop=False, realtime=False)
    frames = source.frames()
    images = [next(frames).image for _ in range(31)]
    source.close()
    with av.open(str(marker_video)) as container:
        decoded = container.decode(video=0)
        expected = [next(decoded).to_ndarray(format="bgr24") for _ in range(31)]
    assert (images[0].shape[1], images[0].shape[0]) == VIDEO_SIZE
    assert all(np.array_equal(a, b) for a, b in zip(images, expected, strict=True))
    # frame 30 shows the red marker: red is the last channel
    marker = images[30].astype(np.int16)
    assert int((marker[..., 2] - np.maximum(marker[..., 0], marker[..., 1]) > 100).sum()) > 1000


def test_realtime_skips_to_the_current_frame_for_a_slow_consumer(one_second_video: Path) -> None:
    source = FileFrameSource("cam1", one_second_video, loop=True, realtime=True)
    frames = source.frames()
    first = next(frames)
    time.sleep(0.45)  # a consumer busy for more than four frame periods
    second = next(frames)
    source.close()
    assert first.index == 0
    assert second.index >= 4


def test_close_interrupts_the_pacing_wait(one_second_video: Path) -> None:
    source = FileFrameSource("cam1", one_second_video, loop=True, realtime=True)
    done = threading.Event()

    def consume() -> None:
        for _ in source.frames():
            pass
        done.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    source.close()
    consumer.join(timeout=10)
    assert done.is_set()


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(SourceOpenError, match=r"nope\.mp4"):
        FileFrameSource("cam1", missing)


@pytest.mark.parametrize("size_bytes", [0, 200])
def test_an_empty_or_truncated_video_names_the_path(
    tmp_path: Path, one_second_video: Path, size_bytes: int
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(one_second_video.read_bytes()[:size_bytes])
    with pytest.raises(SourceOpenError, match=r"broken\.mp4"):
        FileFrameSource("cam1", broken)
