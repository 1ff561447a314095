"""Incident ends on SQLite and PostgreSQL: two replicas that handle an incident's start and its
end at the same moment (a shared subscription splits them) never lose the end nor apply it twice;
an end whose violation never comes is dropped after a while."""

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from api.db import make_engine
from api.incidents import EndOutcome
from api.ingest import HandleResult, IngestCounters, IngestHandler, Outcome
from api.migrate import migrate
from api.models import PendingEndRow, ViolationRow
from api.schemas import ViolationEndPublic, ViolationPublic
from api.store import ViolationStore
from contracts import encode, violation_end_topic, violation_topic
from tests.api.ends import INCIDENT_S, end_of
from tests.fixtures.api import T0, MakeViolation

ROUNDS = 30


class Replica:
    def __init__(self, engine: Engine) -> None:
        self.counters = IngestCounters()
        self.ends: list[ViolationEndPublic] = []
        self.violations: list[ViolationPublic] = []
        self.handler = IngestHandler(
            ViolationStore(engine),
            self.counters,
            self.violations.append,
            on_violation_end=self.ends.append,
        )
        self.results: list[HandleResult] = []


@pytest.fixture
def engines(database_url: str) -> Iterator[tuple[Engine, Engine]]:
    first, second = make_engine(database_url), make_engine(database_url)
    migrate(first)
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()


def test_a_start_and_its_end_handled_at_once_by_two_replicas(
    engines: tuple[Engine, Engine], make_violation: MakeViolation
) -> None:
    starts, ends = Replica(engines[0]), Replica(engines[1])
    events = [make_violation(t_s=index) for index in range(ROUNDS)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(replica: Replica, messages: list[tuple[str, bytes]]) -> None:
        try:
            for topic, payload in messages:
                barrier.wait(timeout=30)  # both handle their message of this incident together
                replica.results.append(replica.handler.handle(topic, payload))
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)
            barrier.abort()

    threads = [
        threading.Thread(
            target=run,
            args=(starts, [(violation_topic("site-1", "edge-1"), encode(e)) for e in events]),
        ),
        threading.Thread(
            target=run,
            args=(
                ends,
                [(violation_end_topic("site-1", "edge-1"), encode(end_of(e))) for e in events],
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert errors == []
    assert {result.outcome for result in starts.results} == {Outcome.ACCEPTED}
    # applied here, or kept and applied by the other (seen here as kept, or as applied already)
    end_outcomes = {Outcome.END_APPLIED, Outcome.END_PENDING, Outcome.END_DUPLICATE}
    assert {result.outcome for result in ends.results} <= end_outcomes
    with engines[0].connect() as connection:
        unended = connection.scalar(
            select(func.count()).select_from(ViolationRow).where(ViolationRow.ended_at.is_(None))
        )
        durations = set(connection.scalars(select(ViolationRow.duration_s)))
        kept = connection.scalar(select(func.count()).select_from(PendingEndRow))
    assert (unended, durations, kept) == (0, {INCIDENT_S}, 0)
    # each end announced once, by whichever replica applied it
    announced = [end.violation_id for end in starts.ends + ends.ends]
    assert sorted(announced) == sorted(event.violation_id for event in events)
    applied = sum(r.counters.snapshot().outcomes[Outcome.END_APPLIED] for r in (starts, ends))
    assert applied == ROUNDS


def test_ends_whose_violation_never_came_are_discarded_after_a_while(
    engines: tuple[Engine, Engine], make_violation: MakeViolation
) -> None:
    store = ViolationStore(engines[0])
    lost, late = make_violation(), make_violation()
    received_at = T0 + timedelta(days=1)
    kept = store.apply_ends([(end_of(lost), T0), (end_of(late), received_at)])
    assert [result.outcome for result in kept] == [EndOutcome.PENDING, EndOutcome.PENDING]
    assert store.discard_kept_ends(received_before=received_at) == 1
    assert store.discard_kept_ends(received_before=received_at) == 0
    # the one still kept is applied when its violation arrives
    assert store.insert_batch([(late, received_at)]) == [True]
    assert [end.violation_id for end in store.claim_pending_ends([late.violation_id])] == [
        late.violation_id
    ]
