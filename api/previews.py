"""PreviewHub: fans each camera's newest preview JPEG out to any number of MJPEG viewers.

One upstream per camera (the edge uploads frames); each viewer always takes the newest frame
when it is ready for one, so a slow viewer skips frames and never holds up the others.
"""

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import datetime

MJPEG_BOUNDARY = "bkframe"


@dataclass(frozen=True, slots=True)
class PreviewFrame:
    jpeg: bytes
    sequence: int
    received_at: datetime


@dataclass
class _Channel:
    latest: PreviewFrame | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    viewers: int = 0


class PreviewHub:
    """Publish and view on the event loop only (the upload route and the viewers are async)."""

    def __init__(self) -> None:
        self._channels: dict[tuple[str, str], _Channel] = {}
        self._closed = False
        self.frames_published = 0
        self.frames_skipped = 0  # frames a slow viewer never saw because a newer one replaced it

    def _channel(self, site: str, camera: str) -> _Channel:
        return self._channels.setdefault((site, camera), _Channel())

    @property
    def viewer_count(self) -> int:
        return sum(channel.viewers for channel in self._channels.values())

    def latest(self, site: str, camera: str) -> PreviewFrame | None:
        channel = self._channels.get((site, camera))
        return None if channel is None else channel.latest

    def publish(self, site: str, camera: str, jpeg: bytes, *, now: datetime) -> PreviewFrame:
        channel = self._channel(site, camera)
        sequence = 1 if channel.latest is None else channel.latest.sequence + 1
        channel.latest = PreviewFrame(jpeg, sequence, now)
        self.frames_published += 1
        changed, channel.changed = channel.changed, asyncio.Event()
        changed.set()
        return channel.latest

    async def frames(self, site: str, camera: str) -> AsyncGenerator[PreviewFrame, None]:
        """Each newer frame as the viewer gets to it; ends when the hub closes."""
        channel = self._channel(site, camera)
        channel.viewers += 1
        last = 0
        try:
            while not self._closed:
                frame = channel.latest
                if frame is not None and frame.sequence != last:
                    if last:
                        self.frames_skipped += max(frame.sequence - last - 1, 0)
                    last = frame.sequence
                    yield frame
                    continue
                await channel.changed.wait()
        finally:
            channel.viewers -= 1

    def close(self) -> None:
        self._closed = True
        for channel in self._channels.values():
            channel.changed.set()


# Each part's header goes out right after the boundary that ends the part before it: browsers
# show a part only once they have read the next part's header, so a frame must not wait for the
# next frame to appear. Parts carry no Content-Length (it is not known that early).
_PART_HEADER = b"Content-Type: image/jpeg\r\n\r\n"
MJPEG_START = f"--{MJPEG_BOUNDARY}\r\n".encode() + _PART_HEADER


def mjpeg_part(frame: PreviewFrame) -> bytes:
    """One frame's bytes, then the boundary and the header of the part that follows."""
    return frame.jpeg + b"\r\n" + MJPEG_START


def split_mjpeg(buffer: bytes) -> tuple[list[bytes], bytes]:
    """The complete JPEG frames at the start of an MJPEG body (after MJPEG_START), and the rest."""
    frames = []
    separator = b"\r\n" + MJPEG_START
    while (end := buffer.find(separator)) >= 0:
        frames.append(buffer[:end])
        buffer = buffer[end + len(separator) :]
    return frames, buffer
