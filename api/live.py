"""LiveHub: fans each new violation and its end out to the browsers allowed to see its site."""

import asyncio
import logging
from dataclasses import dataclass
from typing import Final

from api.schemas import ViolationEndPublic, ViolationPublic

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One Server-Sent Event, serialized once and shared by every subscriber."""

    event: str
    event_id: str
    data: str  # JSON, one line
    site: str | None = None  # only subscribers that see this site get it; None: everyone

    def encode(self) -> str:
        return f"event: {self.event}\nid: {self.event_id}\ndata: {self.data}\n\n"


class _Closed:
    pass


_CLOSED: Final = _Closed()


class LiveSubscription:
    """What one connected client receives; `get()` returns None once the hub closed."""

    def __init__(self, queue_size: int, sites: frozenset[str] | None = None) -> None:
        self._queue: asyncio.Queue[LiveEvent | _Closed] = asyncio.Queue(maxsize=queue_size)
        self.sites = sites  # None: every site
        self.dropped = 0

    def wants(self, item: LiveEvent) -> bool:
        return item.site is None or self.sites is None or item.site in self.sites

    def offer(self, item: LiveEvent) -> bool:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    def close(self) -> None:
        while True:
            try:
                self._queue.put_nowait(_CLOSED)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()  # the close must get through; a lagging client loses one

    async def get(self, timeout_s: float) -> LiveEvent | None:
        """The next event; raises TimeoutError after `timeout_s` without one."""
        item = await asyncio.wait_for(self._queue.get(), timeout=timeout_s)
        return None if isinstance(item, _Closed) else item


class LiveHub:
    """Publish from any thread; subscribe, unsubscribe and close on the event loop bound at start.

    A slow subscriber whose queue is full loses that event (counted) and never delays the others.
    """

    def __init__(self, *, queue_size: int) -> None:
        self._queue_size = queue_size
        self._subscribers: set[LiveSubscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.published_total = 0
        self.dropped_total = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self, sites: frozenset[str] | None = None) -> LiveSubscription:
        """A new stream of the events of `sites` (None: of every site)."""
        subscription = LiveSubscription(self._queue_size, sites)
        if self._closed:
            subscription.close()
        else:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: LiveSubscription) -> None:
        self._subscribers.discard(subscription)

    def publish(self, item: LiveEvent) -> None:
        """Deliver `item` to every subscriber; call on the hub's event loop."""
        self.published_total += 1
        for subscription in self._subscribers:
            if not subscription.wants(item):
                continue
            if not subscription.offer(item):
                self.dropped_total += 1
                if subscription.dropped == 1:  # log the change to lagging, not every drop
                    logger.warning(
                        "live subscriber lagging, dropping events event_id=%s", item.event_id
                    )

    def publish_threadsafe(self, item: LiveEvent) -> None:
        """Schedule `publish` on the hub's loop from another thread (the MQTT ingest's)."""
        loop = self._loop
        if loop is None or self._closed:
            return
        try:
            loop.call_soon_threadsafe(self.publish, item)
        except RuntimeError:  # the loop closed while the service shuts down
            logger.debug("live hub loop closed, event not delivered event_id=%s", item.event_id)

    def close(self) -> None:
        """End every subscriber's stream (at shutdown, so open SSE responses finish)."""
        self._closed = True
        for subscription in self._subscribers:
            subscription.close()
        self._subscribers.clear()


def violation_event(violation: ViolationPublic) -> LiveEvent:
    return LiveEvent(
        event="violation",
        event_id=str(violation.violation_id),
        data=violation.model_dump_json(),
        site=violation.site,
    )


def violation_end_event(end: ViolationEndPublic) -> LiveEvent:
    """Sent to the same audience as the violation: the end carries the violation's site."""
    return LiveEvent(
        event="violation_end",
        event_id=f"{end.violation_id}:end",
        data=end.model_dump_json(),
        site=end.site,
    )
