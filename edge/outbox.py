"""The on-disk outbox: every violation waits in SQLite until the broker has acknowledged it.

WAL journal with synchronous=FULL: a put() that returned survives a crash or a power cut. Items
come back in the order they were put (an autoincrement sequence). put() is idempotent on the
message id while the item is pending; ack() deletes it, so an acked id put again is new.
"""

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from edge.errors import OutboxError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    message_id: str
    topic: str
    payload: bytes
    created_at: datetime


class Outbox(Protocol):
    def put(self, message_id: str, topic: str, payload: bytes) -> None: ...

    def pending(self, limit: int) -> list[OutboxItem]: ...

    def ack(self, message_id: str) -> None: ...

    def depth(self) -> int: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqliteOutbox:
    def __init__(self, path: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # one connection shared by every thread, serialised by self._lock
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise OutboxError(f"cannot open the outbox {path}: {err}") from err

    def put(self, message_id: str, topic: str, payload: bytes) -> None:
        created_at = self._clock().astimezone(UTC).isoformat()
        self._write(
            "INSERT OR IGNORE INTO outbox (message_id, topic, payload, created_at)"
            " VALUES (?, ?, ?, ?)",
            (message_id, topic, payload, created_at),
        )

    def pending(self, limit: int) -> list[OutboxItem]:
        """The oldest `limit` items not yet acknowledged, oldest first."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT seq, message_id, topic, payload, created_at FROM outbox"
                    " ORDER BY seq LIMIT ?",
                    (limit,),
                ).fetchall()
            except sqlite3.Error as err:
                raise OutboxError(f"cannot read the outbox {self.path}: {err}") from err
        return [
            OutboxItem(
                seq=int(seq),
                message_id=str(message_id),
                topic=str(topic),
                payload=bytes(payload),
                created_at=datetime.fromisoformat(str(created_at)),
            )
            for seq, message_id, topic, payload, created_at in rows
        ]

    def ack(self, message_id: str) -> None:
        self._write("DELETE FROM outbox WHERE message_id = ?", (message_id,))

    def depth(self) -> int:
        with self._lock:
            try:
                (count,) = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
            except sqlite3.Error as err:
                raise OutboxError(f"cannot read the outbox {self.path}: {err}") from err
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, statement: str, parameters: tuple[str | bytes, ...]) -> None:
        with self._lock:
            try:
                self._db.execute(statement, parameters)
            except sqlite3.Error as err:
                raise OutboxError(f"cannot write the outbox {self.path}: {err}") from err
