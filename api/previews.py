"""PreviewHub: fans each camera's newest preview JPEG out to any number of MJPEG viewers.

One upstream per camera (the edge uploads frames); each viewer always takes the newest frame
when it is ready for one, so a slow viewer skips frames and never holds up the others.
"""

import asyncio
from collections.abc import AsyncIterator
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

    async def frames(self, site: str, camera: str) -> AsyncIterator[PreviewFrame]:
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


def mjpeg_part(frame: PreviewFrame) -> bytes:
    header = (
        f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {len(frame.jpeg)}\r\n\r\n"
    ).encode()
    return header + frame.jpeg + b"\r\n"
