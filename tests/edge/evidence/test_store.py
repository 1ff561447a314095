"""EvidenceStore: a quota that never deletes unacknowledged evidence, and restarts that lose
nothing."""

import hashlib
import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from edge.evidence.errors import QuotaExceededError
from edge.evidence.items import EvidenceKind, ItemState, file_name
from edge.evidence.store import EvidenceStore
from tests.fixtures.edge import T0


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def blob(size: int, seed: int) -> bytes:
    return bytes((seed + i) % 251 for i in range(size))


def test_put_indexes_the_file_with_its_checksum(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, quota_bytes=10_000)
    violation_id = uuid.uuid4()
    data = blob(1000, 1)
    item = store.put_bytes(violation_id, EvidenceKind.SNAPSHOT, data)
    assert item.path == tmp_path / "files" / f"{violation_id}.snapshot.jpg"
    assert item.path.read_bytes() == data
    assert (item.size_bytes, item.sha256) == (1000, hashlib.sha256(data).hexdigest())
    assert item.state is ItemState.PENDING
    assert store.due() == [item]
    # idempotent: a second put keeps the first file
    assert store.put_bytes(violation_id, EvidenceKind.SNAPSHOT, blob(10, 2)) == item
    assert item.path.read_bytes() == data
    assert list((tmp_path / "tmp").iterdir()) == []


def test_quota_deletes_acknowledged_files_oldest_first(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, quota_bytes=3_000)
    ids = [uuid.uuid4() for _ in range(4)]
    items = [store.put_bytes(i, EvidenceKind.CLIP, blob(1000, n)) for n, i in enumerate(ids[:3])]
    for item in items[:2]:
        store.mark_acked(item.seq)
    store.put_bytes(ids[3], EvidenceKind.CLIP, blob(1000, 3))  # needs 1000 bytes: the oldest ack
    assert not items[0].path.exists()
    assert items[1].path.exists()
    assert store.get(ids[0], EvidenceKind.CLIP) is None
    counts = store.counts()
    assert (counts.pending, counts.acked, counts.used_bytes) == (2, 1, 3000)


def test_quota_never_deletes_unacknowledged_evidence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="edge.evidence.store")
    store = EvidenceStore(tmp_path, quota_bytes=3_000)
    pending = store.put_bytes(uuid.uuid4(), EvidenceKind.CLIP, blob(1000, 1))
    parked = store.put_bytes(uuid.uuid4(), EvidenceKind.CLIP, blob(1000, 2))
    store.mark_parked(parked.seq, "HTTP 409")
    acked = store.put_bytes(uuid.uuid4(), EvidenceKind.CLIP, blob(1000, 3))
    store.mark_acked(acked.seq)
    refused_id = uuid.uuid4()
    with pytest.raises(QuotaExceededError, match="no room"):
        store.put_bytes(refused_id, EvidenceKind.CLIP, blob(1500, 4))  # 1000 freeable, 1500 needed
    assert pending.path.read_bytes() == blob(1000, 1)
    assert parked.path.read_bytes() == blob(1000, 2)
    assert acked.path.exists()  # deleting it would not have made room: kept
    assert store.get(refused_id, EvidenceKind.CLIP) is None
    assert not (tmp_path / "files" / file_name(refused_id, EvidenceKind.CLIP)).exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    counts = store.counts()
    assert (counts.pending, counts.parked, counts.refused) == (1, 1, 1)
    assert "evidence refused" in caplog.text
    # a smaller one fits once the acknowledged file goes
    store.put_bytes(uuid.uuid4(), EvidenceKind.SNAPSHOT, blob(900, 5))
    assert not acked.path.exists()
    assert pending.path.exists()
    assert parked.path.exists()


def test_retry_state_survives_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    store = EvidenceStore(tmp_path, quota_bytes=10_000, clock=clock)
    first = store.put_bytes(uuid.uuid4(), EvidenceKind.CLIP, blob(100, 1))
    second = store.put_bytes(uuid.uuid4(), EvidenceKind.SNAPSHOT, blob(100, 2))
    store.mark_retry(
        second.seq,
        next_attempt_at=clock.now + timedelta(seconds=60),
        error="HTTP 404",
        not_found_since=clock.now,
    )
    store.close()
    reopened = EvidenceStore(tmp_path, quota_bytes=10_000, clock=clock)
    assert [item.seq for item in reopened.due()] == [first.seq]
    later = reopened.get(second.violation_id, EvidenceKind.SNAPSHOT)
    assert later is not None
    assert (later.attempts, later.last_error, later.not_found_since) == (1, "HTTP 404", T0)
    assert reopened.next_attempt_at() == T0
    clock.advance(61)
    assert [item.seq for item in reopened.due()] == [first.seq, second.seq]


def test_a_crash_between_file_and_index_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = EvidenceStore(tmp_path, quota_bytes=10_000)
    kept = store.put_bytes(uuid.uuid4(), EvidenceKind.CLIP, blob(100, 1))
    gone = store.put_bytes(uuid.uuid4(), EvidenceKind.CLIP, blob(100, 2))
    store.close()
    orphan_id = uuid.uuid4()
    (tmp_path / "files" / file_name(orphan_id, EvidenceKind.SNAPSHOT)).write_bytes(blob(50, 3))
    (tmp_path / "files" / "notes.txt").write_text("not ours", encoding="utf-8")
    (tmp_path / "tmp" / "half-written.part").write_bytes(b"x")
    gone.path.unlink()
    reopened = EvidenceStore(tmp_path, quota_bytes=10_000)
    orphan = reopened.get(orphan_id, EvidenceKind.SNAPSHOT)
    assert orphan is not None
    assert orphan.state is ItemState.PENDING
    assert orphan.sha256 == hashlib.sha256(blob(50, 3)).hexdigest()
    assert reopened.get(kept.violation_id, EvidenceKind.CLIP) is not None
    assert reopened.get(gone.violation_id, EvidenceKind.CLIP) is None
    assert (tmp_path / "files" / "notes.txt").exists()  # never delete what is not ours
    assert list((tmp_path / "tmp").iterdir()) == []
    assert "adopted as pending" in caplog.text
    assert "evidence file missing" in caplog.text
