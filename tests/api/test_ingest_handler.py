"""IngestHandler on plain (topic, payload) pairs: what is stored, announced, rejected, counted."""

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from api.db import make_engine
from api.errors import StorageError
from api.ingest import HandleResult, IngestCounters, IngestHandler, Outcome, RejectReason
from api.migrate import migrate
from api.schemas import ViolationPublic
from api.store import PageRequest, ViolationFilter, ViolationStore
from contracts import EdgeState, EdgeStatus, ViolationEvent, encode, status_topic, violation_topic
from tests.fixtures.api import T0, MakeViolation, make_status

RECEIVED_AT = T0 + timedelta(seconds=1)
TOPIC = violation_topic("site-1", "edge-1")


class Harness:
    def __init__(self, store: ViolationStore) -> None:
        self.store = store
        self.counters = IngestCounters()
        self.announced: list[ViolationPublic] = []
        self.handler = IngestHandler(
            store, self.counters, self.announced.append, clock=lambda: RECEIVED_AT
        )

    def handle(self, topic: str, payload: bytes) -> HandleResult:
        return self.handler.handle(topic, payload)

    def stored(self) -> int:
        return self.store.list(ViolationFilter(), PageRequest(limit=1)).total


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bk.db'}")
    migrate(engine)
    try:
        yield Harness(ViolationStore(engine))
    finally:
        engine.dispose()


def test_a_new_violation_is_stored_and_announced_once(
    harness: Harness, make_violation: MakeViolation
) -> None:
    event = make_violation()
    assert harness.handle(TOPIC, encode(event)) == HandleResult(Outcome.ACCEPTED)
    assert harness.handle(TOPIC, encode(event)) == HandleResult(Outcome.DUPLICATE)
    assert harness.stored() == 1
    assert [v.violation_id for v in harness.announced] == [event.violation_id]
    assert harness.announced[0].received_at == RECEIVED_AT
    counts = harness.counters.snapshot()
    assert (counts.outcomes[Outcome.ACCEPTED], counts.outcomes[Outcome.DUPLICATE]) == (1, 1)
    assert sum(counts.rejected.values()) == 0


def _as_json(event: ViolationEvent, **changes: object) -> bytes:
    document = json.loads(encode(event))
    document.update(changes)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("brightkitchen/v1/site-1/edge-1/violation/extra", RejectReason.TOPIC),
        ("brightkitchen/v1/site-1/edge-1/snapshot", RejectReason.TOPIC),  # unknown channel
        ("brightkitchen/v2/site-1/edge-1/violation", RejectReason.TOPIC),
        ("brightkitchen/v1/site.1/edge-1/violation", RejectReason.TOPIC),
        ("brightkitchen/v1//edge-1/violation", RejectReason.TOPIC),
        ("brightkitchen/v1/site+/edge-1/violation", RejectReason.TOPIC),
        ("brightkitchen/v1/site-1/#/violation", RejectReason.TOPIC),
        ("brightkitchen/v1/" + "s" * 65 + "/edge-1/violation", RejectReason.TOPIC),
        ("brightkitchen/v1/site-2/edge-1/violation", RejectReason.TOPIC_MISMATCH),
        ("brightkitchen/v1/site-1/edge-2/violation", RejectReason.TOPIC_MISMATCH),
    ],
)
def test_bad_topics_are_rejected_by_reason(
    harness: Harness, make_violation: MakeViolation, topic: str, reason: RejectReason
) -> None:
    result = harness.handle(topic, encode(make_violation()))
    assert (result.outcome, result.reason, result.ack) == (Outcome.REJECTED, reason, True)
    assert harness.counters.snapshot().rejected[reason] == 1
    assert harness.stored() == 0
    assert harness.announced == []


def test_bad_payloads_are_rejected_by_reason(
    harness: Harness, make_violation: MakeViolation
) -> None:
    event = make_violation()
    cases = [
        (b"{not json", RejectReason.MALFORMED_JSON),
        (b"\xff\xfe\x00", RejectReason.MALFORMED_JSON),
        (b"", RejectReason.MALFORMED_JSON),
        (b"[]", RejectReason.SCHEMA),
        (_as_json(event, schema_version=2), RejectReason.SCHEMA),
        (_as_json(event, kind="teleport"), RejectReason.SCHEMA),
        (_as_json(event, site="site-1/#"), RejectReason.SCHEMA),
        (_as_json(event, camera="cam+1"), RejectReason.SCHEMA),
        (_as_json(event, occurred_at="2025-03-01T08:00:00"), RejectReason.SCHEMA),  # naive
        (_as_json(event, extra_field=True), RejectReason.SCHEMA),
        (encode(make_status(EdgeState.ONLINE, reported_at=T0)), RejectReason.SCHEMA),
    ]
    for payload, reason in cases:
        result = harness.handle(TOPIC, payload)
        assert (result.outcome, result.reason) == (Outcome.REJECTED, reason), payload
    rejected = harness.counters.snapshot().rejected
    assert rejected[RejectReason.MALFORMED_JSON] == 3
    assert rejected[RejectReason.SCHEMA] == 8
    # and the handler goes on storing valid ones
    assert harness.handle(TOPIC, encode(event)).outcome is Outcome.ACCEPTED
    assert harness.stored() == 1


def test_statuses_are_applied_unless_stale(harness: Harness) -> None:
    topic = status_topic("site-1", "edge-1")
    newer = make_status(EdgeState.ONLINE, reported_at=T0 + timedelta(seconds=10))
    older = make_status(EdgeState.ONLINE, reported_at=T0)
    assert harness.handle(topic, encode(newer)).outcome is Outcome.STATUS_APPLIED
    assert harness.handle(topic, encode(older)).outcome is Outcome.STATUS_STALE
    other_topic = status_topic("site-1", "edge-9")
    assert harness.handle(other_topic, encode(newer)).reason is RejectReason.TOPIC_MISMATCH
    (row,) = harness.store.edge_statuses()
    assert row.reported_at == T0 + timedelta(seconds=10)


class StubFailingStore:
    """Raises the configured error on every write."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def insert_batch(self, events: Sequence[tuple[ViolationEvent, datetime]]) -> list[bool]:
        raise self.error

    def upsert_status(self, status: EdgeStatus, *, received_at: datetime) -> bool:
        raise self.error


@pytest.mark.parametrize(
    ("error", "reason", "ack"),
    [
        # the database is down: keep the message at the broker for redelivery
        (StorageError("connection refused", transient=True), RejectReason.STORAGE, False),
        # it will never fit: acknowledge, or it would come back forever
        (StorageError("value too long", transient=False), RejectReason.STORAGE, True),
        (RuntimeError("a bug"), RejectReason.INTERNAL, True),
    ],
)
def test_failures_while_storing_are_counted_and_never_raised(
    make_violation: MakeViolation, error: Exception, reason: RejectReason, ack: bool
) -> None:
    counters = IngestCounters()
    announced: list[ViolationPublic] = []
    handler = IngestHandler(StubFailingStore(error), counters, announced.append)
    result = handler.handle(TOPIC, encode(make_violation()))
    assert (result.outcome, result.reason, result.ack) == (Outcome.REJECTED, reason, ack)
    assert counters.snapshot().rejected[reason] == 1
    assert announced == []


def test_a_failing_announcement_does_not_undo_the_stored_violation(
    harness: Harness, make_violation: MakeViolation
) -> None:
    def broken_announce(_violation: ViolationPublic) -> None:
        raise RuntimeError("live hub gone")

    handler = IngestHandler(harness.store, harness.counters, broken_announce)
    result = handler.handle(TOPIC, encode(make_violation()))
    assert result == HandleResult(Outcome.ACCEPTED)
    assert harness.stored() == 1
