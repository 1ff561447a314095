"""EvidenceStore: clips and snapshots on disk under a quota, indexed in SQLite until uploaded.

Files live in <directory>/files named <violation_id>.<kind>.<ext>; the index (WAL,
synchronous=FULL) holds each one's checksum and upload state: pending, acked (the API has it) or
parked (the API refused it for good; kept for a person to look at). A file is written to
<directory>/tmp, synced and renamed into place before its row is inserted, so a crash leaves at
worst a whole file without a row, which the next start adopts as pending.

The quota is enforced on every put: acknowledged files are deleted oldest first to make room;
pending and parked files are never deleted, so when they alone fill the quota the new evidence is
refused (QuotaExceededError, logged, counted in `refused`).
"""

import hashlib
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from edge.evidence.errors import QuotaExceededError, StoreError
from edge.evidence.items import EvidenceItem, EvidenceKind, ItemState, StoreCounts, file_name

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evidence (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    violation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at REAL NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    not_found_since REAL,
    last_error TEXT,
    acked_at REAL,
    UNIQUE (violation_id, kind)
)
"""
_COLUMNS = (
    "seq, violation_id, kind, size_bytes, sha256, created_at, state, attempts,"
    " next_attempt_at, not_found_since, last_error"
)
_FILE_NAME = re.compile(r"^([0-9a-f-]{36})\.(clip|snapshot)\.(mp4|jpg)$")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _dt(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def _canonical(name: str) -> bool:
    """Whether `name` is one this store writes (so adopting it is safe)."""
    match = _FILE_NAME.match(name)
    if match is None:
        return False
    try:
        return name == file_name(UUID(match.group(1)), EvidenceKind(match.group(2)))
    except ValueError:
        return False


def _sha256_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class EvidenceStore:
    def __init__(
        self,
        directory: Path,
        *,
        quota_bytes: int,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if quota_bytes <= 0:
            raise ValueError("quota_bytes must be > 0")
        self.directory = directory
        self.files_dir = directory / "files"
        self.tmp_dir = directory / "tmp"
        self.quota_bytes = quota_bytes
        self._clock = clock
        self._lock = threading.RLock()
        self._listeners: list[Callable[[], None]] = []
        self._refused = 0
        try:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                directory / "index.sqlite3", check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
            self._reconcile()
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"cannot open the evidence store {directory}: {err}") from err

    # --- writing -------------------------------------------------------------------------

    def temp_path(self, violation_id: UUID, kind: EvidenceKind) -> Path:
        """Where to build a file before put_file() (cleared at the next start if left there)."""
        return self.tmp_dir / f"{file_name(violation_id, kind)}.part"

    def put_bytes(self, violation_id: UUID, kind: EvidenceKind, data: bytes) -> EvidenceItem:
        """Store `data` as pending evidence; QuotaExceededError when there is no room."""
        temp = self.temp_path(violation_id, kind)
        try:
            with temp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            temp.unlink(missing_ok=True)
            raise StoreError(f"cannot write {temp.name}: {err}") from err
        return self.put_file(violation_id, kind, temp)

    def put_file(self, violation_id: UUID, kind: EvidenceKind, source: Path) -> EvidenceItem:
        """Move `source` into the store as pending evidence (it is removed if refused).

        Idempotent: a second put for the same violation and kind keeps the first file.
        """
        try:
            with self._lock:
                existing = self._get(violation_id, kind)
                if existing is not None:
                    source.unlink(missing_ok=True)
                    return existing
                size, sha256 = _sha256_file(source)
                self._make_room(size, violation_id, kind)
                target = self.files_dir / file_name(violation_id, kind)
                _fsync(source)
                source.replace(target)
                _fsync(self.files_dir)
                now = _ts(self._clock())
                self._db.execute(
                    "INSERT INTO evidence (violation_id, kind, size_bytes, sha256, created_at,"
                    " state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (str(violation_id), kind.value, size, sha256, now, ItemState.PENDING, now),
                )
                item = self._get(violation_id, kind)
                assert item is not None
        except QuotaExceededError:
            source.unlink(missing_ok=True)
            raise
        except (OSError, sqlite3.Error) as err:
            source.unlink(missing_ok=True)
            raise StoreError(f"cannot store {kind.value} of {violation_id}: {err}") from err
        logger.info("evidence stored id=%s kind=%s size_bytes=%d", violation_id, kind.value, size)
        for listener in list(self._listeners):
            listener()
        return item

    def _make_room(self, size: int, violation_id: UUID, kind: EvidenceKind) -> None:
        """Delete acknowledged files, oldest first, until `size` more bytes fit the quota; when
        even deleting them all would not do, delete nothing and refuse."""
        used = self._used_bytes()
        if used + size <= self.quota_bytes:
            return
        acked = self._db.execute(
            "SELECT seq, violation_id, kind, size_bytes FROM evidence WHERE state = ? ORDER BY seq",
            (ItemState.ACKED,),
        ).fetchall()
        if used - sum(int(row[3]) for row in acked) + size > self.quota_bytes:
            self._refused += 1
            logger.error(
                "evidence refused: quota full of unacknowledged files id=%s kind=%s"
                " size_bytes=%d used_bytes=%d quota_bytes=%d refused=%d",
                violation_id,
                kind.value,
                size,
                used,
                self.quota_bytes,
                self._refused,
            )
            raise QuotaExceededError(
                f"no room for {kind.value} of {violation_id}: {used} of {self.quota_bytes} bytes"
                " are in use, too few of them acknowledged"
            )
        for seq, acked_id, acked_kind, acked_size in acked:
            if used + size <= self.quota_bytes:
                break
            path = self.files_dir / file_name(UUID(acked_id), EvidenceKind(acked_kind))
            path.unlink(missing_ok=True)
            self._db.execute("DELETE FROM evidence WHERE seq = ?", (seq,))
            used -= int(acked_size)
            logger.info(
                "acknowledged evidence deleted for room id=%s kind=%s", acked_id, acked_kind
            )

    # --- upload state --------------------------------------------------------------------

    def due(self, limit: int = 16) -> list[EvidenceItem]:
        """Pending items whose next attempt is due now, oldest first."""
        return self._select(
            "state = ? AND next_attempt_at <= ? ORDER BY seq LIMIT ?",
            (ItemState.PENDING, _ts(self._clock()), limit),
        )

    def next_attempt_at(self) -> datetime | None:
        """When the earliest pending item is due (None: nothing pending)."""
        with self._lock:
            (earliest,) = self._db.execute(
                "SELECT MIN(next_attempt_at) FROM evidence WHERE state = ?", (ItemState.PENDING,)
            ).fetchone()
        return _dt(earliest)

    def mark_acked(self, seq: int) -> None:
        self._update(
            "state = ?, acked_at = ?, last_error = NULL",
            (ItemState.ACKED, _ts(self._clock())),
            seq,
        )

    def mark_retry(
        self, seq: int, *, next_attempt_at: datetime, error: str, not_found_since: datetime | None
    ) -> None:
        self._update(
            "attempts = attempts + 1, next_attempt_at = ?, last_error = ?, not_found_since = ?",
            (
                _ts(next_attempt_at),
                error[:500],
                None if not_found_since is None else _ts(not_found_since),
            ),
            seq,
        )

    def mark_parked(self, seq: int, reason: str) -> None:
        self._update("state = ?, last_error = ?", (ItemState.PARKED, reason[:500]), seq)

    def read(self, item: EvidenceItem) -> bytes:
        try:
            return item.path.read_bytes()
        except OSError as err:
            raise StoreError(f"cannot read {item.path.name}: {err}") from err

    def get(self, violation_id: UUID, kind: EvidenceKind) -> EvidenceItem | None:
        with self._lock:
            return self._get(violation_id, kind)

    def items(self, state: ItemState | None = None) -> list[EvidenceItem]:
        if state is None:
            return self._select("1 ORDER BY seq", ())
        return self._select("state = ? ORDER BY seq", (state,))

    def counts(self) -> StoreCounts:
        with self._lock:
            rows = dict(
                self._db.execute("SELECT state, COUNT(*) FROM evidence GROUP BY state").fetchall()
            )
            used = self._used_bytes()
            refused = self._refused
        return StoreCounts(
            pending=int(rows.get(ItemState.PENDING, 0)),
            parked=int(rows.get(ItemState.PARKED, 0)),
            acked=int(rows.get(ItemState.ACKED, 0)),
            used_bytes=used,
            refused=refused,
        )

    def pending_count(self) -> int:
        return self.counts().pending

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (from the putting thread) after each new item is stored."""
        with self._lock:
            self._listeners.append(listener)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- internals -----------------------------------------------------------------------

    def _used_bytes(self) -> int:
        (used,) = self._db.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM evidence").fetchone()
        return int(used)

    def _get(self, violation_id: UUID, kind: EvidenceKind) -> EvidenceItem | None:
        found = self._select("violation_id = ? AND kind = ?", (str(violation_id), kind.value))
        return found[0] if found else None

    def _select(self, where: str, parameters: tuple[object, ...]) -> list[EvidenceItem]:
        with self._lock:
            try:
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM evidence WHERE {where}", parameters
                ).fetchall()
            except sqlite3.Error as err:
                raise StoreError(f"cannot read the evidence index: {err}") from err
        items = []
        for row in rows:
            seq, violation_id, kind, size, sha256, created, state, attempts, due, since, error = row
            uuid, evidence_kind = UUID(violation_id), EvidenceKind(kind)
            created_at = datetime.fromtimestamp(created, UTC)
            next_attempt_at = datetime.fromtimestamp(due, UTC)
            items.append(
                EvidenceItem(
                    seq=int(seq),
                    violation_id=uuid,
                    kind=evidence_kind,
                    path=self.files_dir / file_name(uuid, evidence_kind),
                    size_bytes=int(size),
                    sha256=str(sha256),
                    created_at=created_at,
                    state=ItemState(state),
                    attempts=int(attempts),
                    next_attempt_at=next_attempt_at,
                    not_found_since=_dt(since),
                    last_error=error,
                )
            )
        return items

    def _update(self, assignments: str, parameters: tuple[object, ...], seq: int) -> None:
        with self._lock:
            try:
                self._db.execute(
                    f"UPDATE evidence SET {assignments} WHERE seq = ?", (*parameters, seq)
                )
            except sqlite3.Error as err:
                raise StoreError(f"cannot write the evidence index: {err}") from err

    def _reconcile(self) -> None:
        """After a crash: drop half-written files, forget rows without a file, adopt whole files
        without a row as pending (a put that crashed between the rename and the insert)."""
        for partial in self.tmp_dir.iterdir():
            partial.unlink(missing_ok=True)
        indexed: set[str] = set()
        for item in self._select("1", ()):
            if item.path.is_file():
                indexed.add(item.path.name)
                continue
            logger.error(
                "evidence file missing, forgotten id=%s kind=%s state=%s",
                item.violation_id,
                item.kind.value,
                item.state.value,
            )
            self._db.execute("DELETE FROM evidence WHERE seq = ?", (item.seq,))
        for path in sorted(self.files_dir.iterdir()):
            if path.name in indexed:
                continue
            match = _FILE_NAME.match(path.name)
            if not path.is_file() or match is None or not _canonical(path.name):
                logger.warning("unknown file in the evidence directory file=%s", path.name)
                continue
            size, sha256 = _sha256_file(path)
            now = _ts(self._clock())
            self._db.execute(
                "INSERT INTO evidence (violation_id, kind, size_bytes, sha256, created_at,"
                " state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (match.group(1), match.group(2), size, sha256, now, ItemState.PENDING, now),
            )
            logger.warning("evidence file adopted as pending file=%s", path.name)
