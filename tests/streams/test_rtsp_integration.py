"""RtspFrameSource against a real gst-rtsp-server: live frames, outages, hangs and credentials."""

import itertools
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from brightkitchen.services.ports import free_port
from brightkitchen.services.rtsp import (
    RtspServer,
    RtspServerError,
    RtspServerNotInstalledError,
    check_rtsp_server_installed,
)
from streams.errors import SourceOpenError
from streams.frame import Frame, SourceState
from streams.pyav import RTSP_OPTIONS, PyAvSession
from streams.rtsp import RtspFrameSource
from tests.fixtures.rtsp import VIDEO_FPS, VIDEO_SIZE, RtspServerFactory
from tests.streams.waiting import wait_until

STALL_TIMEOUT_S = 2.0


class StateLog:
    def __init__(self) -> None:
        self.states: list[SourceState] = []

    def __call__(self, camera_id: str, state: SourceState) -> None:
        self.states.append(state)


def shows_marker(image_bgr: NDArray[np.uint8]) -> bool:
    pixels = image_bgr.astype(np.int16)
    red_excess = pixels[..., 2] - np.maximum(pixels[..., 0], pixels[..., 1])
    return int((red_excess > 100).sum()) > 1000


def rtsp_source(url: str, states: StateLog | None = None) -> RtspFrameSource:
    return RtspFrameSource(
        "cam1",
        url,
        stall_timeout_s=STALL_TIMEOUT_S,
        open_timeout_s=STALL_TIMEOUT_S,
        backoff_initial_s=0.2,
        backoff_max_s=1.0,
        on_state=states,
    )


@pytest.fixture
def server(rtsp_server_factory: RtspServerFactory, short_marker_video: Path) -> RtspServer:
    return rtsp_server_factory({"cam1": short_marker_video})


@pytest.fixture
def source_states(server: RtspServer) -> Iterator[tuple[RtspFrameSource, StateLog]]:
    states = StateLog()
    source = rtsp_source(server.url("cam1"), states)
    yield source, states
    source.close()


@pytest.mark.integration
def test_reads_the_live_video_with_its_marker(
    source_states: tuple[RtspFrameSource, StateLog],
) -> None:
    source, states = source_states
    frames: list[Frame] = []
    for frame in source.frames():
        frames.append(frame)
        seen = {shows_marker(f.image) for f in frames}
        if seen == {True, False} or len(frames) == 5 * VIDEO_FPS:
            break
    assert {shows_marker(f.image) for f in frames} == {True, False}
    assert {(f.width, f.height) for f in frames} == {VIDEO_SIZE}
    indexes = [f.index for f in frames]
    assert indexes == sorted(set(indexes))
    assert states.states == [SourceState.ONLINE]
    assert source.state is SourceState.ONLINE


@pytest.mark.integration
def test_a_slow_consumer_gets_the_live_frame_not_a_backlog(
    source_states: tuple[RtspFrameSource, StateLog],
) -> None:
    source, _ = source_states
    frames = source.frames()
    first = next(frames)
    wait_until(lambda: source.frames_read >= first.index + 9, timeout_s=10, what="8 more pictures")
    second = next(frames)
    assert second.index >= first.index + 8


@pytest.mark.integration
def test_server_outage_is_offline_once_then_online_on_the_same_port(
    server: RtspServer, source_states: tuple[RtspFrameSource, StateLog]
) -> None:
    source, states = source_states
    before = next(source.frames())
    server.stop()
    wait_until(lambda: source.state is SourceState.OFFLINE, timeout_s=10, what="offline")
    attempts = source.open_attempts
    wait_until(lambda: source.open_attempts >= attempts + 2, timeout_s=10, what="two more retries")
    assert states.states == [SourceState.ONLINE, SourceState.OFFLINE]
    server.start()
    wait_until(lambda: source.state is SourceState.ONLINE, timeout_s=15, what="online again")
    after = next(source.frames())
    assert after.index > before.index
    assert states.states == [SourceState.ONLINE, SourceState.OFFLINE, SourceState.ONLINE]


@pytest.mark.integration
def test_a_hung_server_is_caught_by_the_stall_watchdog(
    server: RtspServer, source_states: tuple[RtspFrameSource, StateLog]
) -> None:
    source, states = source_states
    next(source.frames())
    pid = server.pid
    assert pid is not None
    # the peer stops answering but keeps its connection open: no EOF, no reset
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: source.state is SourceState.OFFLINE, timeout_s=10, what="offline")
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_until(lambda: source.state is SourceState.ONLINE, timeout_s=20, what="online again")
    assert states.states == [SourceState.ONLINE, SourceState.OFFLINE, SourceState.ONLINE]


@pytest.mark.integration
def test_credentials_work_and_never_reach_the_logs(
    rtsp_server_factory: RtspServerFactory,
    short_marker_video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "s3cr:t@pw"
    server = rtsp_server_factory({"cam1": short_marker_video}, user="cam", password=password)
    good = server.url("cam1")
    assert good.startswith("rtsp://cam:s3cr%3At%40pw@127.0.0.1:")
    # passed by environment: `ps` does not show it
    assert password.encode() not in Path(f"/proc/{server.pid}/cmdline").read_bytes()
    wrong_password = good.replace("s3cr%3At%40pw", "wr0ng-pw")

    with rtsp_source(good) as source:
        assert next(source.frames()).image.shape == (VIDEO_SIZE[1], VIDEO_SIZE[0], 3)
    states = StateLog()
    with rtsp_source(wrong_password, states) as refused:
        wait_until(lambda: refused.open_attempts >= 2, timeout_s=10, what="two refusals")
    assert states.states == [SourceState.OFFLINE]

    assert "401" in caplog.text
    for secret in (password, "s3cr%3At%40pw", "wr0ng-pw"):
        assert secret not in caplog.text
        assert all(secret not in str(record.args) for record in caplog.records)


@pytest.mark.integration
def test_an_unauthorized_open_error_masks_the_password(
    rtsp_server_factory: RtspServerFactory, short_marker_video: Path
) -> None:
    server = rtsp_server_factory({"cam1": short_marker_video}, user="cam", password="right-pw")
    url = server.url("cam1").replace("right-pw", "wrong-pw")
    with pytest.raises(SourceOpenError, match="401") as raised:
        PyAvSession(url, open_timeout_s=5, read_timeout_s=5)
    assert "wrong-pw" not in str(raised.value)
    assert "cam:***@" in str(raised.value)


@pytest.mark.integration
def test_two_clients_share_the_live_stream(server: RtspServer) -> None:
    with rtsp_source(server.url("cam1")) as first, rtsp_source(server.url("cam1")) as second:
        assert next(first.frames()).camera_id == "cam1"
        assert next(second.frames()).camera_id == "cam1"


@pytest.mark.integration
def test_the_server_paces_the_loop_with_increasing_timestamps(server: RtspServer) -> None:
    """Across the end of the 2 s file, RTP time grows by one frame per frame, in real time."""
    packet_count = 2 * VIDEO_FPS + 5
    started_at = time.monotonic()
    with av.open(server.url("cam1"), options=dict(RTSP_OPTIONS), timeout=(5.0, 5.0)) as container:
        stream = container.streams.video[0]
        time_base = stream.time_base  # PyAV 18 refuses it once the container is closed
        pts: list[int] = []
        for packet in container.demux(stream):
            if packet.pts is not None:
                pts.append(packet.pts)
            if len(pts) == packet_count:
                break
    elapsed_s = time.monotonic() - started_at
    assert time_base is not None
    steps = {round((b - a) * time_base * VIDEO_FPS, 3) for a, b in itertools.pairwise(pts)}
    assert steps == {1}
    # a live stream cannot deliver 2.4 s of video in much less than 2.4 s (a lower bound only)
    assert elapsed_s >= (packet_count - 1) / VIDEO_FPS - 0.5


@pytest.mark.integration
def test_start_fails_clearly_when_the_port_is_taken(
    rtsp_server_factory: RtspServerFactory, server: RtspServer, short_marker_video: Path
) -> None:
    with pytest.raises(RtspServerError, match="cannot listen"):
        rtsp_server_factory({"cam1": short_marker_video}, port=server.port)


@pytest.mark.integration
def test_a_video_that_is_not_h264_is_named(
    rtsp_server_factory: RtspServerFactory, tmp_path: Path
) -> None:
    mpeg4 = tmp_path / "mpeg4.mp4"
    with av.open(str(mpeg4), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=VIDEO_FPS)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(RtspServerError, match=r"mpeg4\.mp4: not an H\.264 MP4"):
        rtsp_server_factory({"cam1": mpeg4})


def test_url_encodes_credentials_and_names_unknown_mounts(
    tmp_path: Path, short_marker_video: Path
) -> None:
    server = RtspServer(
        tmp_path, {"/cam1": short_marker_video}, port=8554, user="a b", password="p/w@x"
    )
    assert server.url("cam1") == "rtsp://a%20b:p%2Fw%40x@127.0.0.1:8554/cam1"
    assert server.url("/cam1", with_credentials=False) == "rtsp://127.0.0.1:8554/cam1"
    with pytest.raises(KeyError, match="cam2"):
        server.url("cam2")
    assert not server.running


def test_a_missing_video_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.mp4"):
        RtspServer(tmp_path, {"cam1": tmp_path / "missing.mp4"})


def test_a_python_without_gstreamer_says_what_to_install() -> None:
    # the virtual environment's python has no GStreamer bindings
    check_rtsp_server_installed.cache_clear()
    with pytest.raises(RtspServerNotInstalledError, match=r"apt-get install .*gir1\.2-gst-rtsp"):
        check_rtsp_server_installed(sys.executable)


def test_opening_a_closed_port_fails_fast_without_the_password() -> None:
    url = f"rtsp://cam:topsecret@127.0.0.1:{free_port()}/cam1"
    with pytest.raises(SourceOpenError) as raised:
        PyAvSession(url, open_timeout_s=5, read_timeout_s=5)
    assert "topsecret" not in str(raised.value)
    assert "rtsp://cam:***@127.0.0.1" in str(raised.value)
