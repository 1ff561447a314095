"""LiveHub: fan-out to all subscribers; a slow one drops rather than delays; close ends all."""

import asyncio
import threading

from api.live import LiveEvent, LiveHub, LiveSubscription, violation_event
from api.schemas import ViolationPublic
from tests.fixtures.api import T0, MakeViolation


def _event(number: int) -> LiveEvent:
    return LiveEvent(event="violation", event_id=str(number), data=f'{{"n": {number}}}')


async def _drain(subscription: LiveSubscription) -> list[str]:
    """Everything queued for `subscription`, until the hub closes it."""
    received = []
    while (item := await subscription.get(timeout_s=5)) is not None:
        received.append(item.event_id)
    return received


def test_every_subscriber_gets_every_event_in_order() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        hub = LiveHub(queue_size=10)
        first, second = hub.subscribe(), hub.subscribe()
        for number in range(5):
            hub.publish(_event(number))
        hub.close()
        return await _drain(first), await _drain(second)

    first, second = asyncio.run(scenario())
    assert first == second == ["0", "1", "2", "3", "4"]


def test_a_full_subscriber_drops_and_counts_while_others_get_everything() -> None:
    async def scenario() -> tuple[LiveHub, LiveSubscription, list[str], list[str]]:
        hub = LiveHub(queue_size=3)
        slow, fast = hub.subscribe(), hub.subscribe()
        fast_received: list[str] = []
        for number in range(6):
            hub.publish(_event(number))
            fast_item = await fast.get(timeout_s=5)  # the fast client keeps up, the slow one not
            assert fast_item is not None
            fast_received.append(fast_item.event_id)
        hub.close()
        return hub, slow, await _drain(slow), fast_received

    hub, slow, slow_received, fast_received = asyncio.run(scenario())
    assert fast_received == ["0", "1", "2", "3", "4", "5"]
    # the slow queue held 3; one of them made room for the close marker
    assert slow_received == ["1", "2"]
    assert slow.dropped == 3
    assert hub.dropped_total == 3
    assert hub.published_total == 6


def test_unsubscribed_clients_get_nothing_and_a_closed_hub_ends_new_streams() -> None:
    async def scenario() -> tuple[int, list[str]]:
        hub = LiveHub(queue_size=10)
        gone = hub.subscribe()
        hub.unsubscribe(gone)
        hub.publish(_event(1))
        count = hub.subscriber_count
        hub.close()
        late = hub.subscribe()
        return count, await _drain(late)

    count, late_received = asyncio.run(scenario())
    assert (count, late_received) == (0, [])


def test_publish_threadsafe_delivers_from_another_thread(make_violation: MakeViolation) -> None:
    violation = ViolationPublic.from_event(make_violation(), received_at=T0)
    item = violation_event(violation)

    async def scenario() -> LiveEvent | None:
        hub = LiveHub(queue_size=10)
        hub.bind(asyncio.get_running_loop())
        subscription = hub.subscribe()
        thread = threading.Thread(target=hub.publish_threadsafe, args=(item,))
        thread.start()
        received = await subscription.get(timeout_s=10)
        thread.join()
        return received

    received = asyncio.run(scenario())
    assert received == item
    assert item.event_id == str(violation.violation_id)
    assert item.encode() == (
        f"event: violation\nid: {violation.violation_id}\ndata: {violation.model_dump_json()}\n\n"
    )
    assert "\n" not in item.data
