"""FileFrameSource: frames from a video file, paced like a camera, for development and tests."""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av

from streams.clock import utc_now
from streams.errors import SourceOpenError, StreamReadError
from streams.frame import Frame
from streams.pyav import BgrConverter

_DEFAULT_FPS = 25.0


class FileFrameSource:
    """Decode a video file with PyAV and yield its frames, looping at the end when loop is set.

    With realtime, frames are paced at the file's frame rate, and a consumer that falls behind by
    more than a frame gets the current frame, not a backlog (the skipped frames are decoded but not
    converted; indexes skip as they do for an RTSP camera). Without realtime, frames come as fast
    as they are consumed. Decoding runs in the thread that iterates frames().
    """

    def __init__(
        self,
        camera_id: str,
        path: Path,
        *,
        loop: bool = True,
        realtime: bool = True,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.camera_id = camera_id
        self.path = path
        self._loop = loop
        self._realtime = realtime
        self._clock = clock
        self._closing = threading.Event()
        self.fps = self._probe_fps()

    def _probe_fps(self) -> float:
        try:
            with av.open(str(self.path), mode="r") as container:
                if not container.streams.video:
                    raise SourceOpenError(f"{self.path}: has no video stream")
                stream = container.streams.video[0]
                rate: Fraction | None = stream.average_rate or stream.guessed_rate
        except (av.FFmpegError, OSError) as err:
            raise SourceOpenError(f"{self.path}: cannot open video file: {err}") from err
        return float(rate) if rate else _DEFAULT_FPS

    def frames(self) -> Iterator[Frame]:
        """Yield frames until the file ends (without loop) or close() is called."""
        period_s = 1.0 / self.fps
        convert = BgrConverter()
        started_at = time.monotonic()
        loop_offset_s = 0.0
        index = 0
        while not self._closing.is_set():
            decoded = 0
            try:
                with av.open(str(self.path), mode="r") as container:
                    stream = container.streams.video[0]
                    stream.thread_type = "AUTO"
                    first_time_s: float | None = None
                    for av_frame in container.decode(stream):
                        if self._closing.is_set():
                            return
                        frame_time_s = (
                            av_frame.time if av_frame.time is not None else decoded * period_s
                        )
                        first_time_s = frame_time_s if first_time_s is None else first_time_s
                        t_s = loop_offset_s + frame_time_s - first_time_s
                        decoded += 1
                        index += 1
                        if self._realtime:
                            late_s = time.monotonic() - (started_at + t_s)
                            if late_s > period_s:
                                continue  # the consumer is behind: skip to the current frame
                            if late_s < 0 and self._closing.wait(-late_s):
                                return
                        yield Frame(
                            camera_id=self.camera_id,
                            index=index - 1,
                            captured_at=self._clock(),
                            image=convert(av_frame),
                        )
            except (av.FFmpegError, OSError) as err:
                raise StreamReadError(f"{self.path}: decoding failed: {err}") from err
            if decoded == 0:
                raise StreamReadError(f"{self.path}: no decodable video frames")
            if not self._loop:
                return
            loop_offset_s += decoded * period_s

    def close(self) -> None:
        """End frames() at its next frame (or at once when it waits to pace)."""
        self._closing.set()

    def __enter__(self) -> "FileFrameSource":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
