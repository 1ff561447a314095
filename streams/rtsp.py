"""RtspFrameSource: a reader thread that keeps only the newest frame and reopens with backoff."""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from streams.backoff import Backoff
from streams.clock import utc_now
from streams.errors import StreamError
from streams.frame import Frame, SourceState, StateListener
from streams.pyav import PyAvOpener
from streams.redact import redact_text, redact_url
from streams.session import Picture, SessionOpener, VideoSession

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Newest:
    picture: Picture
    index: int
    captured_at: datetime


class RtspFrameSource:
    """Frames from an RTSP camera, always the newest one, surviving drops and stalls.

    A daemon thread opens the stream, decodes every packet and keeps only the newest decoded
    picture; frames() converts a picture to BGR only when it yields it, so pictures that nobody
    takes cost no conversion and a slow consumer never builds a backlog (frame indexes then skip).

    When the stream fails to open, ends, fails, or yields no picture for stall_timeout_s, the
    reader drops the connection and reopens it after an exponential, jittered, capped delay. Each
    read blocks at most stall_timeout_s / 2 (FFmpeg's interrupt callback), so a peer that vanished
    cannot hang the reader: it is noticed within stall_timeout_s.

    States: STARTING -> ONLINE on the first frame, ONLINE -> OFFLINE on a drop, STARTING ->
    OFFLINE when the first attempt fails, OFFLINE -> ONLINE on recovery. on_state is called from
    the reader thread once per change; only changes are logged, with the URL's password masked.
    """

    def __init__(
        self,
        camera_id: str,
        url: str,
        *,
        stall_timeout_s: float = 5.0,
        open_timeout_s: float = 10.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        on_state: StateListener | None = None,
        clock: Callable[[], datetime] = utc_now,
        opener: SessionOpener | None = None,
    ) -> None:
        if stall_timeout_s <= 0 or open_timeout_s <= 0:
            raise ValueError(
                f"camera {camera_id}: stall_timeout_s and open_timeout_s must be positive, "
                f"got {stall_timeout_s} and {open_timeout_s}"
            )
        self.camera_id = camera_id
        self._url = url
        self._redacted_url = redact_url(url)
        self._stall_timeout_s = stall_timeout_s
        self._backoff = Backoff(backoff_initial_s, backoff_max_s)
        self._on_state = on_state
        self._clock = clock
        # Half the stall timeout per read: when a peer vanishes mid-picture, the first interrupted
        # read returns what it had as a (truncated) picture and only the next one fails, so the
        # loss is detected after two reads, within stall_timeout_s.
        self._opener: SessionOpener = opener or PyAvOpener(
            open_timeout_s=open_timeout_s, read_timeout_s=stall_timeout_s / 2
        )
        self._condition = threading.Condition()
        self._newest: _Newest | None = None
        self._frames_read = 0
        self._opens = 0
        self._open_attempts = 0
        self._state = SourceState.STARTING
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rtsp-{camera_id}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The source URL with its password masked: safe to log and show."""
        return self._redacted_url

    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def frames_read(self) -> int:
        """Pictures decoded since start, taken or not."""
        return self._frames_read

    @property
    def opens(self) -> int:
        """Successful opens of the stream since start (1 + reconnects)."""
        return self._opens

    @property
    def open_attempts(self) -> int:
        """Attempts to open the stream since start, failed ones included."""
        return self._open_attempts

    def frames(self) -> Iterator[Frame]:
        """Yield the newest frame each time a new one arrives; ends after close()."""
        last_index = -1
        while True:
            with self._condition:
                while not self._closing.is_set() and (
                    self._newest is None or self._newest.index == last_index
                ):
                    self._condition.wait()
                if self._closing.is_set():
                    return
                newest = self._newest
            assert newest is not None  # the wait loop exits only with a new picture or on close
            last_index = newest.index
            yield Frame(
                camera_id=self.camera_id,
                index=newest.index,
                captured_at=newest.captured_at,
                image=newest.picture.to_bgr(),
            )

    def close(self, *, join_timeout_s: float | None = None) -> None:
        """Stop the reader and end every frames() iterator.

        A reader blocked in a read gives up within stall_timeout_s; close() waits for it at most
        join_timeout_s (default: that long plus a second) and otherwise leaves the daemon thread
        to finish on its own.
        """
        self._closing.set()
        with self._condition:
            self._condition.notify_all()
        if self._thread is threading.current_thread():
            return
        self._thread.join(
            join_timeout_s if join_timeout_s is not None else self._stall_timeout_s + 1.0
        )
        if self._thread.is_alive():
            logger.debug("reader still blocked after close camera=%s", self.camera_id)

    def __enter__(self) -> "RtspFrameSource":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                reason = self._read_session()
            except Exception as err:  # the loop boundary: a bug must not kill the camera
                reason = f"unexpected {type(err).__name__}: {redact_text(str(err), self._url)}"
                logger.error("reader error camera=%s reason=%s", self.camera_id, reason)
            if self._closing.is_set():
                return
            delay_s = self._backoff.next_delay_s()
            if self._state is not SourceState.OFFLINE:
                self._set_state(SourceState.OFFLINE)
                logger.warning(
                    "camera offline camera=%s url=%s reason=%s retry_in_s=%.1f",
                    self.camera_id,
                    self._redacted_url,
                    reason,
                    delay_s,
                )
            else:
                logger.debug(
                    "camera retry failed camera=%s reason=%s retry_in_s=%.1f",
                    self.camera_id,
                    reason,
                    delay_s,
                )
            self._closing.wait(delay_s)

    def _read_session(self) -> str:
        """Open, read until the stream ends, fails or stalls; return why it stopped."""
        self._open_attempts += 1
        try:
            session = self._opener(self._url)
        except StreamError as err:
            return redact_text(str(err), self._url)
        self._opens += 1
        try:
            return self._pump(session)
        except StreamError as err:
            return redact_text(str(err), self._url)
        finally:
            session.close()

    def _pump(self, session: VideoSession) -> str:
        deadline = time.monotonic() + self._stall_timeout_s
        for picture in session.pictures():
            if self._closing.is_set():
                return "closed"
            now = time.monotonic()
            if picture is None:
                if now > deadline:
                    return f"no picture for {self._stall_timeout_s:.1f}s"
                continue
            deadline = now + self._stall_timeout_s
            self._publish(picture)
        return "stream ended"

    def _publish(self, picture: Picture) -> None:
        with self._condition:
            self._newest = _Newest(picture, self._frames_read, self._clock())
            self._frames_read += 1
            self._condition.notify_all()
        if self._state is not SourceState.ONLINE:
            self._backoff.reset()
            self._set_state(SourceState.ONLINE)
            logger.info("camera online camera=%s url=%s", self.camera_id, self._redacted_url)

    def _set_state(self, state: SourceState) -> None:
        self._state = state
        if self._on_state is None or self._closing.is_set():
            return
        try:
            self._on_state(self.camera_id, state)
        except Exception:  # a listener's bug must not stop the reader
            logger.exception("state listener failed camera=%s state=%s", self.camera_id, state)
