"""MqttIngest on a real Mosquitto: stored once, bad input counted, nothing lost across outages."""

import json
import threading
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest

from api.db import make_engine
from api.errors import StorageError
from api.incidents import EndResult
from api.ingest import IngestCounters, IngestHandler, MqttIngest, Outcome, RejectReason
from api.migrate import migrate
from api.schemas import ViolationPublic
from api.settings import MqttOptions
from api.store import PageRequest, ViolationFilter, ViolationStore
from brightkitchen.services.mosquitto import MosquittoBroker
from contracts import (
    EdgeState,
    EdgeStatus,
    ViolationEnd,
    ViolationEvent,
    encode,
    status_topic,
    violation_end_topic,
    violation_topic,
)
from tests.api.ends import INCIDENT_S, end_of
from tests.conftest import BrokerUsers
from tests.fixtures.api import T0, MakeViolation, MqttTestPublisher, make_status, wait_for

pytestmark = pytest.mark.integration

TOPIC = violation_topic("site-1", "edge-1")


class FlakyStore:
    """A real store whose first `failures` violation inserts fail as if the database were down."""

    def __init__(self, store: ViolationStore, failures: int) -> None:
        self._store = store
        self._failures = failures
        self._lock = threading.Lock()

    def insert_batch(self, events: Sequence[tuple[ViolationEvent, datetime]]) -> list[bool]:
        with self._lock:
            if self._failures > 0:
                self._failures -= 1
                raise StorageError("database unreachable (simulated)", transient=True)
        return self._store.insert_batch(events)

    def apply_ends(self, ends: Sequence[tuple[ViolationEnd, datetime]]) -> list[EndResult]:
        return self._store.apply_ends(ends)

    def claim_pending_ends(self, violation_ids: Collection[UUID]) -> list[ViolationEnd]:
        return self._store.claim_pending_ends(violation_ids)

    def upsert_status(self, status: EdgeStatus, *, received_at: datetime) -> bool:
        return self._store.upsert_status(status, received_at=received_at)


class IngestRig:
    """A real store on SQLite and MqttIngest instances against the test broker."""

    def __init__(self, tmp_path: Path, broker: MosquittoBroker, users: BrokerUsers) -> None:
        self.engine = make_engine(f"sqlite:///{tmp_path / 'bk.db'}")
        migrate(self.engine)
        self.store = ViolationStore(self.engine)
        self.counters = IngestCounters()
        self.announced: list[ViolationPublic] = []
        self.options = MqttOptions(
            host=broker.host,
            port=broker.port,
            client_id="api-under-test",
            username=users.api.username,
            password=users.api.password,
            reconnect_min_s=1,
            reconnect_max_s=2,
        )
        self._running: list[MqttIngest] = []

    def start(self, *, store: FlakyStore | ViolationStore | None = None) -> MqttIngest:
        handler = IngestHandler(store or self.store, self.counters, self.announced.append)
        ingest = MqttIngest(self.options, handler)
        ingest.start()
        self._running.append(ingest)
        return ingest

    def stored_ids(self) -> set[UUID]:
        rows = self.store.list(ViolationFilter(), PageRequest(limit=1000)).rows
        return {row.violation_id for row in rows}

    def handled(self) -> int:
        return sum(self.counters.snapshot().outcomes.values())

    def close(self) -> None:
        for ingest in self._running:
            ingest.stop()
        self.engine.dispose()


@pytest.fixture
def rig(
    tmp_path: Path, mosquitto: MosquittoBroker, broker_users: BrokerUsers
) -> Iterator[IngestRig]:
    rig = IngestRig(tmp_path, mosquitto, broker_users)
    try:
        yield rig
    finally:
        rig.close()


def _ready(ingest: MqttIngest) -> None:
    assert ingest.wait_ready(timeout_s=20), "the ingest did not subscribe"


def test_a_violation_published_twice_is_stored_once(
    rig: IngestRig, tester_publisher: MqttTestPublisher, make_violation: MakeViolation
) -> None:
    _ready(rig.start())
    event = make_violation()
    tester_publisher.publish(TOPIC, encode(event))
    tester_publisher.publish(TOPIC, encode(event))
    wait_for(lambda: rig.handled() == 2, timeout_s=20, what="both deliveries to be handled")
    assert rig.stored_ids() == {event.violation_id}
    outcomes = rig.counters.snapshot().outcomes
    assert (outcomes[Outcome.ACCEPTED], outcomes[Outcome.DUPLICATE]) == (1, 1)
    assert [v.violation_id for v in rig.announced] == [event.violation_id]


def test_an_incidents_start_and_end_store_its_duration(
    rig: IngestRig, tester_publisher: MqttTestPublisher, make_violation: MakeViolation
) -> None:
    _ready(rig.start())
    event = make_violation()
    end = end_of(event, max_count=2)
    tester_publisher.publish(TOPIC, encode(event))
    tester_publisher.publish(violation_end_topic("site-1", "edge-1"), encode(end))
    wait_for(lambda: rig.handled() == 2, timeout_s=20, what="the start and the end handled")
    row = rig.store.get(event.violation_id)
    assert row is not None
    assert (row.ended_at, row.duration_s, row.max_count) == (end.ended_at, INCIDENT_S, 2)
    assert rig.counters.snapshot().outcomes[Outcome.END_APPLIED] == 1


def test_bad_messages_are_rejected_counted_and_the_ingest_goes_on(
    rig: IngestRig, tester_publisher: MqttTestPublisher, make_violation: MakeViolation
) -> None:
    _ready(rig.start())
    event = make_violation()
    document = json.loads(encode(event))
    # '+' and '#' cannot be published in a topic (the client and the broker refuse it), so the
    # levels that reach the subscription are bad identifiers; in payloads the wildcards can appear
    bad: list[tuple[str, bytes, RejectReason]] = [
        (TOPIC, b'{"violation_id": ', RejectReason.MALFORMED_JSON),
        (TOPIC, b"\x00\xff binary", RejectReason.MALFORMED_JSON),
        (TOPIC, json.dumps({**document, "severity": 9}).encode(), RejectReason.SCHEMA),
        (TOPIC, json.dumps({**document, "site": "site-1/+"}).encode(), RejectReason.SCHEMA),
        (TOPIC, json.dumps({**document, "camera": "#"}).encode(), RejectReason.SCHEMA),
        (TOPIC, encode(make_status(EdgeState.ONLINE, reported_at=T0)), RejectReason.SCHEMA),
        (violation_topic("site-2", "edge-1"), encode(event), RejectReason.TOPIC_MISMATCH),
        ("brightkitchen/v1/site.1/edge-1/violation", encode(event), RejectReason.TOPIC),
        ("brightkitchen/v1//edge-1/violation", encode(event), RejectReason.TOPIC),
        ("brightkitchen/v1/site-1/ edge-1/violation", encode(event), RejectReason.TOPIC),
        ("brightkitchen/v1/站点/edge-1/violation", encode(event), RejectReason.TOPIC),
        ("brightkitchen/v1/site-1/" + "e" * 65 + "/status", encode(event), RejectReason.TOPIC),
    ]
    for topic, payload, _reason in bad:
        tester_publisher.publish(topic, payload)
    tester_publisher.publish(TOPIC, encode(event))
    wait_for(lambda: rig.handled() == len(bad) + 1, timeout_s=20, what="every message handled")
    expected = dict.fromkeys(RejectReason, 0)
    for _topic, _payload, reason in bad:
        expected[reason] += 1
    counts = rig.counters.snapshot()
    assert counts.rejected == expected
    assert counts.outcomes[Outcome.ACCEPTED] == 1
    assert rig.stored_ids() == {event.violation_id}


def test_messages_sent_while_the_ingest_is_down_arrive_when_it_returns(
    rig: IngestRig, tester_publisher: MqttTestPublisher, make_violation: MakeViolation
) -> None:
    first = rig.start()
    _ready(first)
    first.stop()  # a clean stop keeps the broker-side session and its subscriptions
    events = [make_violation(t_s=t) for t in range(3)]
    for event in events:
        tester_publisher.publish(TOPIC, encode(event))
    _ready(rig.start())
    wait_for(lambda: len(rig.stored_ids()) == 3, timeout_s=20, what="the queued violations")
    assert rig.stored_ids() == {event.violation_id for event in events}


def test_the_ingest_reconnects_after_a_broker_restart(
    rig: IngestRig,
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    make_violation: MakeViolation,
) -> None:
    ingest = rig.start()
    _ready(ingest)
    mosquitto.stop()
    wait_for(lambda: not ingest.connected, timeout_s=20, what="the ingest to notice the outage")
    mosquitto.start()
    _ready(ingest)
    publisher = MqttTestPublisher(mosquitto, broker_users.tester)
    try:
        event = make_violation()
        publisher.publish(TOPIC, encode(event))
        wait_for(lambda: rig.stored_ids() == {event.violation_id}, timeout_s=20, what="storage")
    finally:
        publisher.close()


def test_a_transient_storage_failure_leaves_the_message_for_redelivery(
    rig: IngestRig, tester_publisher: MqttTestPublisher, make_violation: MakeViolation
) -> None:
    _ready(rig.start(store=FlakyStore(rig.store, failures=1)))
    event = make_violation()
    tester_publisher.publish(TOPIC, encode(event))
    # the announcement comes last, after the row and the counters: waiting on the row alone
    # raced the ACCEPTED count
    wait_for(lambda: bool(rig.announced), timeout_s=30, what="the redelivery to be announced")
    assert rig.stored_ids() == {event.violation_id}
    counts = rig.counters.snapshot()
    assert counts.rejected[RejectReason.STORAGE] == 1
    assert counts.outcomes[Outcome.ACCEPTED] == 1
    assert [v.violation_id for v in rig.announced] == [event.violation_id]


def test_a_retained_status_is_applied_on_subscribe(
    rig: IngestRig, tester_publisher: MqttTestPublisher
) -> None:
    status = make_status(EdgeState.ONLINE, reported_at=T0)
    tester_publisher.publish(status_topic("site-1", "edge-1"), encode(status), retain=True)
    _ready(rig.start())
    wait_for(lambda: len(rig.store.edge_statuses()) == 1, timeout_s=20, what="the status row")
    (row,) = rig.store.edge_statuses()
    assert (row.state, row.reported_at) == ("online", T0)


def test_stop_returns_while_the_broker_is_unreachable(
    rig: IngestRig, mosquitto: MosquittoBroker
) -> None:
    mosquitto.stop()
    ingest = rig.start()
    assert not ingest.wait_ready(timeout_s=0.5)
    ingest.stop(timeout_s=20)
    assert not ingest.connected
    assert all(thread.name != "mqtt-ingest" for thread in threading.enumerate())
