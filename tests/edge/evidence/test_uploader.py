"""EvidenceUploader against a real HTTP server: outages, 404 before the violation arrives,
permanent refusals, restarts; everything arrives exactly once with the right checksum."""

import hashlib
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from brightkitchen.services.ports import free_port
from edge.evidence.items import EvidenceItem, EvidenceKind, ItemState
from edge.evidence.store import EvidenceStore
from edge.evidence.uploader import EvidenceUploader, Outcome, backoff_s
from tests.edge.evidence.fake_api import FakeEvidenceApi, Mode
from tests.fixtures.edge import T0, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def fast_uploader(store: EvidenceStore, client: httpx.Client, **changes: float) -> EvidenceUploader:
    settings: dict[str, float] = {
        "retry_initial_s": 0.02,
        "retry_max_s": 0.1,
        "not_found_retry_s": 60.0,
        "idle_poll_s": 0.5,
        **changes,
    }
    return EvidenceUploader(store, client, rng=random.Random(7), **settings)  # type: ignore[arg-type]


def fill(store: EvidenceStore, count: int) -> list[EvidenceItem]:
    items = []
    for n in range(count):
        violation_id = uuid.uuid4()
        clip = b"\x00\x00\x00\x20ftypisom" + b"mdat" * (100 + n)
        items.append(store.put_bytes(violation_id, EvidenceKind.CLIP, clip))
        items.append(
            store.put_bytes(violation_id, EvidenceKind.SNAPSHOT, b"\xff\xd8\xff" + bytes(n))
        )
    return items


def assert_arrived_once(api: FakeEvidenceApi, items: list[EvidenceItem]) -> None:
    assert set(api.stored) == {(str(i.violation_id), i.kind.value) for i in items}
    for item in items:
        body = api.stored[(str(item.violation_id), item.kind.value)]
        assert hashlib.sha256(body).hexdigest() == item.sha256
    assert api.statuses().count(201) == len(items)
    assert 200 not in api.statuses()  # nothing sent twice after it was taken


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EvidenceStore]:
    store = EvidenceStore(tmp_path / "evidence", quota_bytes=10_000_000)
    yield store
    store.close()


def test_uploads_survive_the_api_being_down_for_a_while(store: EvidenceStore) -> None:
    api = FakeEvidenceApi(port=free_port())  # not listening yet: connections are refused
    items = fill(store, 3)
    api.known.update(str(i.violation_id) for i in items)
    uploader = fast_uploader(store, api.client())
    uploader.start()
    try:
        wait_until(lambda: uploader.counters().unavailable >= 3, what="refused connections")
        api.mode = Mode.UNAVAILABLE
        api.start()  # up, but answering 503
        wait_until(lambda: api.statuses().count(503) >= 3, what="503 answers")
        assert store.pending_count() == 6
        api.mode = Mode.ACCEPT
        fill_later = fill(store, 1)  # new evidence during the recovery
        api.known.update(str(i.violation_id) for i in fill_later)
        wait_until(lambda: store.pending_count() == 0, what="every upload acknowledged")
    finally:
        uploader.close()
        api.stop()
        api.close_clients()
    assert_arrived_once(api, items + fill_later)
    assert uploader.counters().uploaded == 8
    assert store.counts().acked == 8
    assert all(item.path.exists() for item in items)  # kept until room is needed


def test_404_means_not_yet_then_201(store: EvidenceStore) -> None:
    (clip, snapshot) = fill(store, 1)
    with FakeEvidenceApi() as api:
        uploader = fast_uploader(store, api.client())
        uploader.start()
        try:
            wait_until(lambda: api.statuses().count(404) >= 4, what="404 answers")
            assert store.pending_count() == 2
            api.known.add(str(clip.violation_id))  # the violation arrives by MQTT
            wait_until(lambda: store.pending_count() == 0, what="the uploads")
        finally:
            uploader.close()
    assert_arrived_once(api, [clip, snapshot])
    assert uploader.counters().not_found >= 4
    assert uploader.counters().parked == 0


def test_404_for_longer_than_the_limit_is_parked(store: EvidenceStore) -> None:
    clock = FakeClock()
    timed = EvidenceStore(store.directory.parent / "timed", quota_bytes=10_000, clock=clock)
    (clip, _) = fill(timed, 1)
    with FakeEvidenceApi() as api:
        uploader = EvidenceUploader(
            timed, api.client(), not_found_retry_s=600.0, clock=clock, rng=random.Random(1)
        )
        assert uploader.upload(clip) is Outcome.NOT_YET
        after_first = timed.get(clip.violation_id, EvidenceKind.CLIP)
        assert after_first is not None
        assert after_first.not_found_since == T0
        assert after_first.next_attempt_at > T0  # backed off
        clock.advance(599)
        assert uploader.upload(after_first) is Outcome.NOT_YET
        clock.advance(2)
        last = timed.get(clip.violation_id, EvidenceKind.CLIP)
        assert last is not None
        assert uploader.upload(last) is Outcome.PARKED
    parked = timed.get(clip.violation_id, EvidenceKind.CLIP)
    assert parked is not None
    assert parked.state is ItemState.PARKED
    assert parked.path.exists()
    timed.close()


@pytest.mark.parametrize("status", [409, 413, 415, 422, 400])
def test_permanent_refusals_are_parked_and_kept(store: EvidenceStore, status: int) -> None:
    (clip, snapshot) = fill(store, 1)
    with FakeEvidenceApi() as api:
        api.forced[str(clip.violation_id)] = status
        uploader = fast_uploader(store, api.client())
        assert uploader.run_once() is None  # both tried, nothing left to retry
    assert [i.seq for i in store.items(ItemState.PARKED)] == [clip.seq, snapshot.seq]
    parked = store.get(clip.violation_id, EvidenceKind.CLIP)
    assert parked is not None
    assert parked.last_error is not None
    assert parked.last_error.startswith(f"HTTP {status}")
    assert clip.path.exists()
    assert snapshot.path.exists()
    assert uploader.counters().parked == 2
    assert uploader.depth() == 0
    assert api.statuses() == [status, status]  # tried once each, never again


@pytest.mark.parametrize("token", ["wrong-token"])
def test_a_refused_token_is_retried_not_parked(store: EvidenceStore, token: str) -> None:
    (clip, _) = fill(store, 1)
    with FakeEvidenceApi() as api:
        api.known.add(str(clip.violation_id))
        uploader = fast_uploader(store, api.client(token))
        wait_s = uploader.run_once()
        assert wait_s is not None
        assert 0.01 <= wait_s <= 0.02  # the first backoff: half to all of retry_initial_s
        assert api.statuses() == [401]  # paused after the first failure, not one per item
    assert store.pending_count() == 2
    assert store.items(ItemState.PARKED) == []


def test_a_restart_resumes_pending_uploads(tmp_path: Path) -> None:
    directory = tmp_path / "evidence"
    first = EvidenceStore(directory, quota_bytes=10_000_000)
    items = fill(first, 2)
    api = FakeEvidenceApi(port=free_port())
    api.known.update(str(i.violation_id) for i in items)
    uploader = fast_uploader(first, api.client())
    assert uploader.run_once() is not None  # the API is down: everything stays pending
    first.close()
    second = EvidenceStore(directory, quota_bytes=10_000_000)
    assert second.pending_count() == 4
    with api:
        resumed = fast_uploader(second, api.client())
        resumed.start()
        try:
            wait_until(lambda: second.pending_count() == 0, what="the resumed uploads")
        finally:
            resumed.close()
    assert_arrived_once(api, items)
    second.close()


def test_backoff_doubles_is_capped_and_jittered() -> None:
    rng = random.Random(3)
    delays = [backoff_s(n, initial_s=1.0, max_s=30.0, rng=rng) for n in range(1, 9)]
    bounds = [1, 2, 4, 8, 16, 30, 30, 30]
    assert all(b / 2 <= d <= b for d, b in zip(delays, bounds, strict=True)), delays
    spread = {round(backoff_s(6, initial_s=1.0, max_s=30.0, rng=rng), 3) for _ in range(20)}
    assert len(spread) > 10  # jittered, so edges do not retry in lockstep
