"""RtspFrameSource's reader loop on scripted sessions: newest frame only, states, backoff, logs."""

import logging
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from numpy.typing import NDArray

from streams.errors import SourceOpenError, StreamReadError
from streams.frame import SourceState
from streams.rtsp import RtspFrameSource
from streams.session import Picture, VideoSession
from tests.streams.waiting import wait_until

URL = "rtsp://cam:hunter22@10.1.2.3:554/live"
PASSWORD = "hunter22"
END = "end"  # tells a FakeSession's stream to end


class FakePicture:
    def __init__(self, number: int) -> None:
        self.number = number
        self.conversions = 0

    def to_bgr(self) -> NDArray[np.uint8]:
        self.conversions += 1
        return np.full((4, 6, 3), self.number, dtype=np.uint8)


class FakeSession:
    """Yields what the test puts in: a picture, END, or an exception to raise; None while idle."""

    def __init__(self, *items: FakePicture | str | Exception) -> None:
        self.items: queue.Queue[FakePicture | str | Exception] = queue.Queue()
        for item in items:
            self.items.put(item)
        self.closed = threading.Event()

    def pictures(self) -> Iterator[Picture | None]:
        while True:
            try:
                item = self.items.get(timeout=0.02)
            except queue.Empty:
                yield None  # data without a picture: lets the reader check close and stalls
                continue
            if isinstance(item, Exception):
                raise item
            if item == END:
                return
            assert isinstance(item, FakePicture)
            yield item

    def close(self) -> None:
        self.closed.set()


class FakeOpener:
    """Hands out the scripted sessions (or raises the scripted errors) in order, then refuses."""

    def __init__(self, *outcomes: FakeSession | Exception) -> None:
        self.outcomes = list(outcomes)
        self.urls: list[str] = []

    def __call__(self, url: str) -> VideoSession:
        self.urls.append(url)
        if not self.outcomes:
            raise SourceOpenError("connection refused")
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class StateLog:
    def __init__(self) -> None:
        self.changes: list[tuple[str, SourceState]] = []

    def __call__(self, camera_id: str, state: SourceState) -> None:
        self.changes.append((camera_id, state))

    @property
    def states(self) -> list[SourceState]:
        return [state for _, state in self.changes]


def make_source(
    opener: FakeOpener, states: StateLog | None = None, *, stall_timeout_s: float = 30.0
) -> RtspFrameSource:
    return RtspFrameSource(
        "cam1",
        URL,
        stall_timeout_s=stall_timeout_s,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        on_state=states,
        opener=opener,
    )


def test_first_frame_goes_online_with_index_time_and_image() -> None:
    times = iter(datetime(2026, 3, 1, 9, 0, tzinfo=UTC) + timedelta(seconds=s) for s in range(9))
    states = StateLog()
    opener = FakeOpener(FakeSession(FakePicture(7)))
    source = RtspFrameSource("cam1", URL, on_state=states, opener=opener, clock=lambda: next(times))
    try:
        frame = next(source.frames())
    finally:
        source.close()
    assert frame.camera_id == "cam1"
    assert frame.index == 0
    assert frame.captured_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert frame.image.shape == (4, 6, 3)
    assert int(frame.image[0, 0, 0]) == 7
    assert states.changes == [("cam1", SourceState.ONLINE)]
    assert opener.urls == [URL]


def test_default_clock_is_aware_utc() -> None:
    source = make_source(FakeOpener(FakeSession(FakePicture(1))))
    try:
        frame = next(source.frames())
    finally:
        source.close()
    assert frame.captured_at.tzinfo is not None
    assert frame.captured_at.utcoffset() == timedelta(0)


def test_keeps_only_the_newest_picture_and_converts_only_what_is_taken() -> None:
    session = FakeSession()
    source = make_source(FakeOpener(session))
    frames = source.frames()
    try:
        pictures = [FakePicture(n) for n in range(12)]
        for picture in pictures[:10]:
            session.items.put(picture)
        wait_until(lambda: source.frames_read == 10, timeout_s=10, what="10 pictures decoded")
        first = next(frames)
        for picture in pictures[10:]:
            session.items.put(picture)
        wait_until(lambda: source.frames_read == 12, timeout_s=10, what="12 pictures decoded")
        second = next(frames)
    finally:
        source.close()
    assert (first.index, int(first.image[0, 0, 0])) == (9, 9)
    assert (second.index, int(second.image[0, 0, 0])) == (11, 11)
    assert [picture.conversions for picture in pictures] == [0] * 9 + [1, 0, 1]


def test_each_consumer_gets_each_new_frame_once() -> None:
    session = FakeSession(FakePicture(1))
    source = make_source(FakeOpener(session))
    frames = source.frames()
    try:
        assert next(frames).index == 0
        session.items.put(FakePicture(2))
        assert next(frames).index == 1
        assert next(source.frames()).index == 1  # a new consumer starts with the newest
    finally:
        source.close()


def test_drop_reports_offline_once_while_retrying_then_online(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="streams")
    states = StateLog()
    dropped = FakeSession(FakePicture(1), END)
    recovered = FakeSession(FakePicture(2))
    refused = [SourceOpenError("connection refused") for _ in range(3)]
    opener = FakeOpener(dropped, *refused, recovered)
    source = make_source(opener, states)
    try:
        wait_until(lambda: len(states.changes) == 3, timeout_s=10, what="three state changes")
        frame = next(source.frames())
    finally:
        source.close()
    assert states.states == [SourceState.ONLINE, SourceState.OFFLINE, SourceState.ONLINE]
    assert (source.opens, source.open_attempts) == (2, 5)
    assert dropped.closed.is_set()
    assert frame.index == 1  # indexes keep growing across reconnects
    offline = [r for r in caplog.records if r.getMessage().startswith("camera offline")]
    online = [r for r in caplog.records if r.getMessage().startswith("camera online")]
    assert [r.levelno for r in offline] == [logging.WARNING]
    assert len(online) == 2
    retries = [r for r in caplog.records if r.getMessage().startswith("camera retry failed")]
    assert all(r.levelno == logging.DEBUG for r in retries)
    assert len(retries) == 3


def test_first_open_failing_reports_offline_then_online() -> None:
    states = StateLog()
    opener = FakeOpener(SourceOpenError("401 Unauthorized"), FakeSession(FakePicture(1)))
    source = make_source(opener, states)
    try:
        wait_until(lambda: len(states.changes) == 2, timeout_s=10, what="two state changes")
    finally:
        source.close()
    assert states.states == [SourceState.OFFLINE, SourceState.ONLINE]


def test_a_read_error_reconnects() -> None:
    states = StateLog()
    failing = FakeSession(FakePicture(1), StreamReadError("connection reset"))
    opener = FakeOpener(failing, FakeSession(FakePicture(2)))
    source = make_source(opener, states)
    try:
        wait_until(lambda: len(states.changes) == 3, timeout_s=10, what="three state changes")
    finally:
        source.close()
    assert states.states == [SourceState.ONLINE, SourceState.OFFLINE, SourceState.ONLINE]
    assert failing.closed.is_set()


def test_a_stream_without_pictures_is_a_stall_and_reconnects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    states = StateLog()
    stalled = FakeSession(FakePicture(1))  # then only None: data, but never a picture
    opener = FakeOpener(stalled, FakeSession(FakePicture(2)))
    source = make_source(opener, states, stall_timeout_s=0.3)
    try:
        wait_until(lambda: len(states.changes) == 3, timeout_s=10, what="three state changes")
    finally:
        source.close()
    assert states.states == [SourceState.ONLINE, SourceState.OFFLINE, SourceState.ONLINE]
    assert stalled.closed.is_set()
    assert "no picture for 0.3s" in caplog.text


def test_close_ends_every_consumer_and_the_reader_thread() -> None:
    states = StateLog()
    source = make_source(FakeOpener(FakeSession()), states)
    finished = threading.Event()

    def consume() -> None:
        for _ in source.frames():
            pass
        finished.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    source.close()
    consumer.join(timeout=10)
    assert finished.is_set()
    assert not [t for t in threading.enumerate() if t.name == "rtsp-cam1"]
    assert list(source.frames()) == []
    assert states.changes == []


def test_passwords_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    states = StateLog()
    # a careless library puts the full URL, password included, into its messages
    opener = FakeOpener(
        SourceOpenError(f"cannot open {URL}: 401"),
        FakeSession(FakePicture(1), StreamReadError(f"reading {URL} failed")),
        RuntimeError(f"bug while opening {URL} with password {PASSWORD}"),
        FakeSession(FakePicture(2)),
    )
    source = make_source(opener, states)
    try:
        wait_until(lambda: len(states.changes) == 4, timeout_s=10, what="four state changes")
    finally:
        source.close()
    assert states.states == [
        SourceState.OFFLINE,
        SourceState.ONLINE,
        SourceState.OFFLINE,
        SourceState.ONLINE,
    ]
    assert source.url == "rtsp://cam:***@10.1.2.3:554/live"
    assert "rtsp://cam:***@10.1.2.3:554/live" in caplog.text
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in str(record.args) for record in caplog.records)


def test_a_failing_state_listener_does_not_stop_the_reader(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_listener(camera_id: str, state: SourceState) -> None:
        raise RuntimeError("listener bug")

    session = FakeSession(FakePicture(1))
    source = RtspFrameSource("cam1", URL, on_state=broken_listener, opener=FakeOpener(session))
    frames = source.frames()
    try:
        assert next(frames).index == 0
        session.items.put(FakePicture(2))
        assert next(frames).index == 1
    finally:
        source.close()
    assert "state listener failed camera=cam1 state=online" in caplog.text


def test_rejects_non_positive_timeouts_naming_them() -> None:
    with pytest.raises(ValueError, match="stall_timeout_s"):
        RtspFrameSource("cam1", URL, stall_timeout_s=0.0, opener=FakeOpener())
