"""IngestHandler on plain (topic, payload) pairs: what is stored, announced, rejected, counted."""

import json
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from api.db import make_engine
from api.errors import StorageError
from api.incidents import EndResult
from api.ingest import HandleResult, IngestCounters, IngestHandler, Outcome, RejectReason
from api.migrate import migrate
from api.schemas import ViolationEndPublic, ViolationPublic
from api.store import PageRequest, ViolationFilter, ViolationStore
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
from tests.fixtures.api import T0, MakeViolation, make_status

RECEIVED_AT = T0 + timedelta(seconds=1)
TOPIC = violation_topic("site-1", "edge-1")
END_TOPIC = violation_end_topic("site-1", "edge-1")


class Harness:
    def __init__(self, store: ViolationStore) -> None:
        self.store = store
        self.counters = IngestCounters()
        self.announced: list[ViolationPublic] = []
        self.ends: list[ViolationEndPublic] = []
        self.handler = IngestHandler(
            store,
            self.counters,
            self.announced.append,
            clock=lambda: RECEIVED_AT,
            on_violation_end=self.ends.append,
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

    def apply_ends(self, ends: Sequence[tuple[ViolationEnd, datetime]]) -> list[EndResult]:
        raise self.error

    def claim_pending_ends(self, violation_ids: Collection[UUID]) -> list[ViolationEnd]:
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
    ends: list[ViolationEndPublic] = []
    handler = IngestHandler(
        StubFailingStore(error), counters, announced.append, on_violation_end=ends.append
    )
    event = make_violation()
    results = handler.handle_batch([(TOPIC, encode(event)), (END_TOPIC, encode(end_of(event)))])
    for result in results:
        assert (result.outcome, result.reason, result.ack) == (Outcome.REJECTED, reason, ack)
    assert counters.snapshot().rejected[reason] == 2
    assert (announced, ends) == ([], [])


def test_a_failing_announcement_does_not_undo_the_stored_violation(
    harness: Harness, make_violation: MakeViolation
) -> None:
    def broken_announce(_violation: ViolationPublic) -> None:
        raise RuntimeError("live hub gone")

    handler = IngestHandler(harness.store, harness.counters, broken_announce)
    result = handler.handle(TOPIC, encode(make_violation()))
    assert result == HandleResult(Outcome.ACCEPTED)
    assert harness.stored() == 1


# --- incident ends -------------------------------------------------------------------------------


def test_an_end_is_applied_once_and_announced(
    harness: Harness, make_violation: MakeViolation
) -> None:
    event = make_violation().model_copy(update={"track_id": 7, "count": 2})
    assert harness.handle(TOPIC, encode(event)).outcome is Outcome.ACCEPTED
    (announced,) = harness.announced
    assert (announced.track_id, announced.count, announced.ended_at) == (7, 2, None)
    end = end_of(event, max_count=3)
    assert harness.handle(END_TOPIC, encode(end)) == HandleResult(Outcome.END_APPLIED)
    # a redelivery, or a second end of the same incident, changes nothing
    assert harness.handle(END_TOPIC, encode(end)) == HandleResult(Outcome.END_DUPLICATE)
    later = end_of(event, duration_s=900.0)
    assert harness.handle(END_TOPIC, encode(later)).outcome is Outcome.END_DUPLICATE
    row = harness.store.get(event.violation_id)
    assert row is not None
    assert (row.track_id, row.count) == (7, 2)
    assert (row.ended_at, row.duration_s, row.max_count) == (end.ended_at, INCIDENT_S, 3)
    assert harness.ends == [ViolationEndPublic.from_end(end)]
    stored = ViolationPublic.from_row(row)
    assert (stored.ended_at, stored.duration_s, stored.max_count) == (end.ended_at, INCIDENT_S, 3)
    outcomes = harness.counters.snapshot().outcomes
    assert (outcomes[Outcome.END_APPLIED], outcomes[Outcome.END_DUPLICATE]) == (1, 2)


def test_an_end_before_its_start_is_kept_until_the_start_arrives(
    harness: Harness, make_violation: MakeViolation
) -> None:
    event = make_violation()
    end = end_of(event)
    assert harness.handle(END_TOPIC, encode(end)) == HandleResult(Outcome.END_PENDING)
    assert harness.handle(END_TOPIC, encode(end)) == HandleResult(Outcome.END_PENDING)
    assert (harness.stored(), harness.ends) == (0, [])
    assert harness.handle(TOPIC, encode(event)) == HandleResult(Outcome.ACCEPTED)
    row = harness.store.get(event.violation_id)
    assert row is not None
    assert (row.ended_at, row.duration_s) == (end.ended_at, INCIDENT_S)
    # announced with its end, and the end announced once
    (announced,) = harness.announced
    assert (announced.ended_at, announced.duration_s) == (end.ended_at, INCIDENT_S)
    assert harness.ends == [ViolationEndPublic.from_end(end)]
    # the kept end is gone: a redelivered start or end changes nothing more
    assert harness.handle(TOPIC, encode(event)).outcome is Outcome.DUPLICATE
    assert harness.handle(END_TOPIC, encode(end)).outcome is Outcome.END_DUPLICATE
    assert len(harness.ends) == 1


def test_an_end_batched_before_its_start_is_applied(
    harness: Harness, make_violation: MakeViolation
) -> None:
    event = make_violation()
    results = harness.handler.handle_batch(
        [(END_TOPIC, encode(end_of(event))), (TOPIC, encode(event))]
    )
    assert [result.outcome for result in results] == [Outcome.END_APPLIED, Outcome.ACCEPTED]
    row = harness.store.get(event.violation_id)
    assert row is not None
    assert row.duration_s == INCIDENT_S


def test_an_end_for_another_edges_violation_is_never_applied(
    harness: Harness, make_violation: MakeViolation
) -> None:
    event = make_violation()  # site-1 / edge-1 / cam-1
    assert harness.handle(TOPIC, encode(event)).outcome is Outcome.ACCEPTED
    foreign = [
        (violation_end_topic("site-2", "edge-1"), end_of(event, site="site-2")),
        (violation_end_topic("site-1", "edge-2"), end_of(event, edge="edge-2")),
        (END_TOPIC, end_of(event, camera="cam-9")),
    ]
    for topic, end in foreign:
        result = harness.handle(topic, encode(end))
        assert (result.outcome, result.reason) == (Outcome.REJECTED, RejectReason.TOPIC_MISMATCH)
    # the topic names another site than the payload
    result = harness.handle(violation_end_topic("site-2", "edge-1"), encode(end_of(event)))
    assert result.reason is RejectReason.TOPIC_MISMATCH
    row = harness.store.get(event.violation_id)
    assert row is not None
    assert row.ended_at is None
    assert harness.counters.snapshot().rejected[RejectReason.TOPIC_MISMATCH] == 4
    assert harness.ends == []


def test_a_kept_end_of_another_site_is_discarded_when_the_start_arrives(
    harness: Harness, make_violation: MakeViolation
) -> None:
    event = make_violation()
    spoof = end_of(event, site="site-2")
    assert harness.handle(violation_end_topic("site-2", "edge-1"), encode(spoof)).outcome is (
        Outcome.END_PENDING
    )
    assert harness.handle(TOPIC, encode(event)).outcome is Outcome.ACCEPTED
    row = harness.store.get(event.violation_id)
    assert row is not None
    assert row.ended_at is None
    assert harness.announced[0].ended_at is None
    assert harness.ends == []
    # the true end still applies
    assert harness.handle(END_TOPIC, encode(end_of(event))).outcome is Outcome.END_APPLIED


def test_each_channel_takes_only_its_own_payload(
    harness: Harness, make_violation: MakeViolation
) -> None:
    event = make_violation()
    status = make_status(EdgeState.ONLINE, reported_at=T0)
    cases = [
        (END_TOPIC, encode(status)),  # once taken for a status: anything not a violation was
        (END_TOPIC, encode(event)),
        (TOPIC, encode(end_of(event))),
        (status_topic("site-1", "edge-1"), encode(end_of(event))),
        (END_TOPIC, _as_json(event, duration_s=-1.0)),
    ]
    for topic, payload in cases:
        result = harness.handle(topic, payload)
        assert (result.outcome, result.reason) == (Outcome.REJECTED, RejectReason.SCHEMA), topic
    assert harness.store.edge_statuses() == ()
    result = harness.handle("brightkitchen/v1/site-1/edge-1/violation_start", encode(event))
    assert (result.outcome, result.reason) == (Outcome.REJECTED, RejectReason.TOPIC)
    assert harness.stored() == 0
