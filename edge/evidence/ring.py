"""FrameRing: the last seconds of one camera, downscaled and JPEG-encoded to bound memory.

A camera thread calls append() with every frame it reads; the ring keeps one every 1 / fps
seconds of captured_at (a steady cadence, so a 10 fps camera under a 10 fps limit keeps every
frame despite jitter), downscaled to max_width_px and stored as JPEG: about 15-35 KiB a frame at
640x360 and quality 80, so 20 s at 10 fps is 3-7 MiB a camera instead of 135 MiB raw.

Frames older than `seconds` before the newest are dropped. collect() hands a clip its `pre`
seconds at once and then every kept frame up to its end as it arrives, so a clip never depends on
the ring still holding its frames when it is written.
"""

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import cv2
import numpy as np
from numpy.typing import NDArray

from streams.frame import Frame


@dataclass(frozen=True, slots=True)
class RingFrame:
    captured_at: datetime  # aware UTC, the source frame's
    jpeg: bytes
    width: int  # of the stored (downscaled) image
    height: int

    def decode(self) -> NDArray[np.uint8]:
        """The stored image as (H, W, 3) BGR."""
        image = cv2.imdecode(np.frombuffer(self.jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:  # cannot happen for bytes cv2.imencode made
            raise ValueError("stored frame is not a decodable JPEG")
        return np.asarray(image, dtype=np.uint8)


def downscale(image: NDArray[np.uint8], max_width_px: int) -> NDArray[np.uint8]:
    """`image` scaled to at most max_width_px wide, aspect kept (INTER_AREA: no aliasing)."""
    height, width = image.shape[:2]
    if width <= max_width_px:
        return image
    new_height = max(1, round(height * max_width_px / width))
    resized = cv2.resize(image, (max_width_px, new_height), interpolation=cv2.INTER_AREA)
    return np.asarray(resized, dtype=np.uint8)


def encode_jpeg(image: NDArray[np.uint8], quality: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"cannot JPEG-encode an image of shape {image.shape}")
    return bytes(buffer)


class RingCollector:
    """The frames of one clip window: the ring's frames from start_at, then new ones to end_at."""

    def __init__(self, start_at: datetime, end_at: datetime) -> None:
        self.start_at = start_at
        self.end_at = end_at
        self._condition = threading.Condition()
        self._frames: list[RingFrame] = []
        self._complete = False
        self._listeners: list[threading.Event] = []

    @property
    def complete(self) -> bool:
        """A frame at or past end_at has arrived: nothing more will be added."""
        with self._condition:
            return self._complete

    def frames(self) -> list[RingFrame]:
        """The frames collected so far, oldest first, all within [start_at, end_at]."""
        with self._condition:
            return list(self._frames)

    def wait(self, timeout_s: float) -> bool:
        """Wait until complete or timeout_s; return whether it is complete."""
        with self._condition:
            return self._condition.wait_for(lambda: self._complete, timeout=timeout_s)

    def notify(self, event: threading.Event) -> None:
        """Set `event` when the collector completes (at once if it already has)."""
        with self._condition:
            if not self._complete:
                self._listeners.append(event)
                return
        event.set()

    def _offer(self, frame: RingFrame) -> bool:
        """Take `frame` if it is in the window; return True once complete (drop the collector)."""
        with self._condition:
            if self._complete:
                return True
            if self.start_at <= frame.captured_at <= self.end_at:
                self._frames.append(frame)
            if frame.captured_at < self.end_at:
                return False
            self._complete = True
            listeners, self._listeners = self._listeners, []
            self._condition.notify_all()
        for event in listeners:
            event.set()
        return True


class FrameRing:
    """The last `seconds` of one camera at up to `fps`, at most max_width_px wide, as JPEG."""

    def __init__(
        self,
        camera_id: str,
        *,
        seconds: float = 20.0,
        fps: float = 10.0,
        max_width_px: int = 640,
        jpeg_quality: int = 80,
    ) -> None:
        if seconds <= 0.0 or fps <= 0.0 or max_width_px < 2 or not 1 <= jpeg_quality <= 100:
            raise ValueError(
                "seconds and fps must be > 0, max_width_px >= 2, jpeg_quality in 1..100"
            )
        self.camera_id = camera_id
        self.seconds = seconds
        self.fps = fps
        self.max_width_px = max_width_px
        self.jpeg_quality = jpeg_quality
        self._window = timedelta(seconds=seconds)
        self._interval = timedelta(seconds=1.0 / fps)
        self._lock = threading.Lock()
        self._frames: deque[RingFrame] = deque()
        self._bytes = 0
        self._next_due: datetime | None = None
        self._collectors: list[RingCollector] = []

    def due(self, captured_at: datetime) -> bool:
        """Whether a frame captured then would be kept (lets a caller skip converting it)."""
        with self._lock:
            return self._next_due is None or captured_at >= self._next_due - self._interval / 2

    def append(self, frame: Frame) -> bool:
        """Keep `frame` if it is due by the fps cadence; return whether it was kept.

        Thread-safe. The downscale and JPEG encoding run outside the lock, in the caller's thread
        (a few ms at 640 px; cv2 releases the GIL meanwhile).
        """
        captured_at = frame.captured_at
        with self._lock:
            if not self._take(captured_at):
                return False
        image = downscale(frame.image, self.max_width_px)
        stored = RingFrame(
            captured_at=captured_at,
            jpeg=encode_jpeg(image, self.jpeg_quality),
            width=int(image.shape[1]),
            height=int(image.shape[0]),
        )
        with self._lock:
            if self._frames and captured_at <= self._frames[-1].captured_at:
                return False  # a concurrent append of a newer frame won; keep the ring ordered
            self._frames.append(stored)
            self._bytes += len(stored.jpeg)
            oldest_kept = captured_at - self._window
            while self._frames and self._frames[0].captured_at < oldest_kept:
                self._bytes -= len(self._frames.popleft().jpeg)
            collectors = list(self._collectors)
        finished = [collector for collector in collectors if collector._offer(stored)]
        if finished:
            with self._lock:
                self._collectors = [c for c in self._collectors if c not in finished]
        return True

    def _take(self, captured_at: datetime) -> bool:
        """The cadence: due from half an interval before the next slot, so jitter keeps frames."""
        interval, next_due = self._interval, self._next_due
        if next_due is not None and captured_at < next_due - interval / 2:
            return False
        if next_due is not None and captured_at - next_due < interval:
            self._next_due = next_due + interval  # on schedule
        else:
            self._next_due = captured_at + interval  # first frame, a gap, or the clock went back
        return True

    def frames(self, since: datetime | None = None) -> list[RingFrame]:
        """The kept frames captured at or after `since` (all when None), oldest first."""
        with self._lock:
            return [f for f in self._frames if since is None or f.captured_at >= since]

    def collect(self, start_at: datetime, end_at: datetime) -> RingCollector:
        """A collector holding the kept frames from start_at now and each new one to end_at."""
        collector = RingCollector(start_at, end_at)
        with self._lock:
            backlog = [f for f in self._frames if f.captured_at >= start_at]
            done = False
            for frame in backlog:
                done = collector._offer(frame)
                if done:
                    break
            if not done:
                self._collectors.append(collector)
        return collector

    @property
    def memory_bytes(self) -> int:
        """Bytes of JPEG held (the images; the per-frame objects add about 200 bytes each)."""
        with self._lock:
            return self._bytes

    @property
    def collecting(self) -> int:
        """Collectors still waiting for frames."""
        with self._lock:
            return len(self._collectors)

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def span_s(self) -> float:
        """Seconds between the oldest and newest kept frame."""
        with self._lock:
            if len(self._frames) < 2:
                return 0.0
            return (self._frames[-1].captured_at - self._frames[0].captured_at).total_seconds()
