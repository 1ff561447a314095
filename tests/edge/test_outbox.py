"""SqliteOutbox: order, idempotent put, ack, durability across a reopen, thread safety."""

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.errors import OutboxError
from edge.outbox import SqliteOutbox

TOPIC = "brightkitchen/v1/site-1/edge-1/violation"


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[SqliteOutbox]:
    box = SqliteOutbox(tmp_path / "outbox.sqlite")
    yield box
    box.close()


def ids(box: SqliteOutbox, limit: int = 100) -> list[str]:
    return [item.message_id for item in box.pending(limit)]


def test_pending_in_put_order_with_contents(outbox: SqliteOutbox) -> None:
    for name in ("c", "a", "b"):
        outbox.put(name, TOPIC, name.encode() * 3)

    items = outbox.pending(10)

    assert [item.message_id for item in items] == ["c", "a", "b"]
    assert [item.payload for item in items] == [b"ccc", b"aaa", b"bbb"]
    assert {item.topic for item in items} == {TOPIC}
    assert items[0].seq < items[1].seq < items[2].seq
    assert all(item.created_at.tzinfo is not None for item in items)


def test_pending_respects_the_limit_oldest_first(outbox: SqliteOutbox) -> None:
    for index in range(5):
        outbox.put(f"m{index}", TOPIC, b"x")

    assert ids(outbox, 2) == ["m0", "m1"]


def test_put_is_idempotent_on_the_message_id(outbox: SqliteOutbox) -> None:
    outbox.put("a", TOPIC, b"first")
    outbox.put("b", TOPIC, b"b")
    outbox.put("a", TOPIC, b"second")

    assert ids(outbox) == ["a", "b"]
    assert outbox.pending(1)[0].payload == b"first"
    assert outbox.depth() == 2


def test_ack_removes_only_that_item(outbox: SqliteOutbox) -> None:
    for name in ("a", "b", "c"):
        outbox.put(name, TOPIC, b"x")

    outbox.ack("b")
    outbox.ack("unknown")

    assert ids(outbox) == ["a", "c"]
    assert outbox.depth() == 2


def test_pending_items_survive_a_restart_in_order(tmp_path: Path) -> None:
    path = tmp_path / "state" / "outbox.sqlite"
    first = SqliteOutbox(path)
    for index in range(5):
        first.put(f"m{index}", TOPIC, f"payload {index}".encode())
    first.ack("m1")
    first.close()

    reopened = SqliteOutbox(path)
    try:
        assert ids(reopened) == ["m0", "m2", "m3", "m4"]
        assert reopened.pending(1)[0].payload == b"payload 0"
        reopened.put("m5", TOPIC, b"after restart")
        assert ids(reopened)[-1] == "m5"
    finally:
        reopened.close()


def test_the_database_is_durable_wal_full_sync(outbox: SqliteOutbox, tmp_path: Path) -> None:
    outbox.put("a", TOPIC, b"x")
    with sqlite3.connect(tmp_path / "outbox.sqlite") as other:
        (mode,) = other.execute("PRAGMA journal_mode").fetchone()
        # a second connection sees the row at once: put() committed
        (count,) = other.execute("SELECT COUNT(*) FROM outbox").fetchone()
    other.close()

    assert mode == "wal"
    assert count == 1


def test_created_at_comes_from_the_clock(tmp_path: Path) -> None:
    moment = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    box = SqliteOutbox(tmp_path / "o.sqlite", clock=lambda: moment)
    try:
        box.put("a", TOPIC, b"x")
        assert box.pending(1)[0].created_at == moment
    finally:
        box.close()


def test_concurrent_puts_and_acks_lose_nothing(outbox: SqliteOutbox) -> None:
    def produce(worker: int) -> None:
        for index in range(50):
            outbox.put(f"w{worker}-{index}", TOPIC, b"x")
            if index % 2:
                outbox.ack(f"w{worker}-{index}")

    threads = [threading.Thread(target=produce, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    remaining = ids(outbox, 1000)
    assert len(remaining) == 100
    for worker in range(4):
        mine = [name for name in remaining if name.startswith(f"w{worker}-")]
        assert mine == [f"w{worker}-{index}" for index in range(0, 50, 2)]


def test_an_unusable_path_raises_outbox_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(OutboxError, match="cannot open the outbox"):
        SqliteOutbox(blocker / "outbox.sqlite")
