"""ViolationStore on SQLite and PostgreSQL: idempotent insert, status upsert, filters, pages."""

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.db import make_engine
from api.migrate import migrate
from api.models import ViolationRow
from api.store import PageRequest, ViolationFilter, ViolationStore
from contracts import EdgeState, ViolationKind
from tests.fixtures.api import T0, MakeViolation, make_status


@pytest.fixture
def store(database_url: str) -> Iterator[ViolationStore]:
    engine = make_engine(database_url)
    migrate(engine)
    try:
        yield ViolationStore(engine)
    finally:
        engine.dispose()


def _count(store: ViolationStore) -> int:
    return store.list(ViolationFilter(), PageRequest(limit=1)).total


def test_insert_if_new_stores_a_violation_once(
    store: ViolationStore, make_violation: MakeViolation
) -> None:
    event = make_violation()
    received_at = T0 + timedelta(seconds=2)
    assert store.insert_if_new(event, received_at=received_at) is True
    assert store.insert_if_new(event, received_at=received_at + timedelta(seconds=5)) is False
    assert _count(store) == 1
    row = store.get(event.violation_id)
    assert row is not None
    assert (row.site, row.camera, row.kind, row.severity) == ("site-1", "cam-1", "no_hat", 3)
    assert row.occurred_at == event.occurred_at
    assert row.occurred_at.tzinfo is not None
    assert row.received_at == received_at  # the first delivery's, not the redelivery's
    assert row.boxes == [box.model_dump(mode="json") for box in event.boxes]
    assert (row.zone, row.has_snapshot, row.has_clip) == ("prep", True, False)


def test_concurrent_inserts_of_one_id_store_one_row(
    store: ViolationStore, make_violation: MakeViolation
) -> None:
    event = make_violation()
    barrier = threading.Barrier(2)
    results: list[bool] = []
    lock = threading.Lock()

    def insert() -> None:
        barrier.wait()
        added = store.insert_if_new(event, received_at=T0)
        with lock:
            results.append(added)

    threads = [threading.Thread(target=insert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    engine = store._engine
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(ViolationRow)) == 1


def test_get_unknown_id_is_none(store: ViolationStore, make_violation: MakeViolation) -> None:
    assert store.get(make_violation().violation_id) is None


def test_list_filters_and_pages_newest_first(
    store: ViolationStore, make_violation: MakeViolation
) -> None:
    events = [
        make_violation(t_s=0, camera="cam-1", kind=ViolationKind.NO_HAT),
        make_violation(t_s=10, camera="cam-2", kind=ViolationKind.NO_MASK),
        make_violation(t_s=20, camera="cam-1", kind=ViolationKind.RODENT, severity=1),
        make_violation(t_s=30, site="site-2", camera="cam-1", kind=ViolationKind.NO_HAT),
        make_violation(t_s=40, camera="cam-1", kind=ViolationKind.NO_HAT),
    ]
    for event in reversed(events):  # insertion order must not decide the listing order
        assert store.insert_if_new(event, received_at=T0)

    def ids(filters: ViolationFilter, limit: int = 50, offset: int = 0) -> list[int]:
        found = store.list(filters, PageRequest(limit=limit, offset=offset))
        by_id = {event.violation_id: index for index, event in enumerate(events)}
        return [by_id[row.violation_id] for row in found.rows]

    assert ids(ViolationFilter()) == [4, 3, 2, 1, 0]
    assert ids(ViolationFilter(site="site-1")) == [4, 2, 1, 0]
    assert ids(ViolationFilter(site="site-1", camera="cam-1")) == [4, 2, 0]
    assert ids(ViolationFilter(kind=ViolationKind.NO_HAT)) == [4, 3, 0]
    since, until = T0 + timedelta(seconds=10), T0 + timedelta(seconds=30)
    assert ids(ViolationFilter(since=since, until=until)) == [2, 1]  # since in, until out
    assert ids(ViolationFilter(site="nowhere")) == []
    assert ids(ViolationFilter(), limit=2) == [4, 3]
    assert ids(ViolationFilter(), limit=2, offset=2) == [2, 1]
    assert ids(ViolationFilter(), limit=2, offset=4) == [0]
    page = store.list(ViolationFilter(site="site-1"), PageRequest(limit=1, offset=1))
    assert (len(page.rows), page.total) == (1, 4)


def test_upsert_status_keeps_the_newest_report(store: ViolationStore) -> None:
    online = make_status(EdgeState.ONLINE, reported_at=T0 + timedelta(seconds=10))
    assert store.upsert_status(online, received_at=T0) is True
    older = make_status(EdgeState.ONLINE, reported_at=T0 + timedelta(seconds=5))
    assert store.upsert_status(older, received_at=T0) is False
    assert store.upsert_status(online, received_at=T0) is False  # a redelivery changes nothing
    newer = make_status(EdgeState.ONLINE, reported_at=T0 + timedelta(seconds=20))
    assert store.upsert_status(newer, received_at=T0) is True
    (row,) = store.edge_statuses()
    assert (row.site, row.edge, row.state) == ("site-1", "edge-1", "online")
    assert row.reported_at == T0 + timedelta(seconds=20)
    assert row.cameras == {"cam-1": {"state": "online", "since": "2025-03-01T08:00:20Z"}}


def test_last_will_offline_applies_although_stamped_before_the_online_reports(
    store: ViolationStore,
) -> None:
    # the will is stamped when the edge connected (T0), before the reports that follow it
    will = make_status(EdgeState.OFFLINE, reported_at=T0)
    store.upsert_status(
        make_status(EdgeState.ONLINE, reported_at=T0 + timedelta(seconds=60)), received_at=T0
    )
    assert store.upsert_status(will, received_at=T0) is True
    assert [row.state for row in store.edge_statuses()] == ["offline"]
    # but an old offline report does not replace a newer offline one
    assert (
        store.upsert_status(
            make_status(EdgeState.OFFLINE, reported_at=T0 - timedelta(seconds=1)), received_at=T0
        )
        is False
    )
    (row,) = store.edge_statuses()
    assert row.reported_at == T0


def test_edge_statuses_are_listed_per_site_and_edge(store: ViolationStore) -> None:
    for site, edge in (("site-2", "edge-1"), ("site-1", "edge-2"), ("site-1", "edge-1")):
        store.upsert_status(
            make_status(EdgeState.ONLINE, reported_at=T0, site=site, edge=edge), received_at=T0
        )
    assert [(row.site, row.edge) for row in store.edge_statuses()] == [
        ("site-1", "edge-1"),
        ("site-1", "edge-2"),
        ("site-2", "edge-1"),
    ]


def test_insert_batch_stores_new_ones_once_and_tells_which(
    store: ViolationStore, make_violation: MakeViolation
) -> None:
    stored_before = make_violation(t_s=0)
    assert store.insert_if_new(stored_before, received_at=T0)
    fresh, other = make_violation(t_s=1), make_violation(t_s=2)
    added = store.insert_batch(
        [(fresh, T0), (stored_before, T0), (fresh, T0), (other, T0)]  # fresh twice in one batch
    )
    assert added == [True, False, False, True]
    assert _count(store) == 3
    assert store.insert_batch([]) == []
    row = store.get(other.violation_id)
    assert row is not None
    assert (row.state, row.deadline_at) == ("new", other.occurred_at + timedelta(hours=168))
