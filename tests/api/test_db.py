"""Engine creation and the UTC datetime column, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from api.db import UtcDateTime, make_engine
from api.errors import StorageError


def test_make_engine_creates_the_sqlite_parent_directory(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "dir" / "bk.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
    assert database.exists()


def test_make_engine_rejects_other_databases_naming_the_scheme() -> None:
    with pytest.raises(StorageError, match="'mysql\\+pymysql' is not supported"):
        make_engine("mysql+pymysql://user@localhost/db")


def test_aware_datetimes_round_trip_as_utc(database_url: str) -> None:
    table = Table(
        "moments",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UtcDateTime()),
    )
    china = timezone(timedelta(hours=8))
    written = [
        datetime(2025, 3, 1, 16, 30, 15, 123456, tzinfo=china),  # 08:30:15.123456 UTC
        datetime(2025, 3, 1, 8, 30, 16, tzinfo=UTC),
    ]
    engine = make_engine(database_url)
    try:
        table.create(engine)
        with engine.begin() as connection:
            connection.execute(insert(table), [{"id": i, "at": at} for i, at in enumerate(written)])
            read = connection.scalars(select(table.c.at).order_by(table.c.id)).all()
            # comparisons in SQL see the same instants, whatever offset the parameter has
            later = connection.scalars(
                select(table.c.id).where(
                    table.c.at > datetime(2025, 3, 1, 16, 30, 15, 500000, tzinfo=china)
                )
            ).all()
        table.drop(engine)
    finally:
        engine.dispose()
    assert read == written
    assert all(at.tzinfo is not None and at.utcoffset() == timedelta(0) for at in read)
    assert read[0].hour == 8
    assert later == [1]


def test_naive_datetimes_are_refused(tmp_path: Path) -> None:
    table = Table("moments", MetaData(), Column("at", UtcDateTime()))
    engine = make_engine(f"sqlite:///{tmp_path / 'bk.db'}")
    try:
        table.create(engine)
        with engine.begin() as connection, pytest.raises(StatementError, match="naive datetime"):
            connection.execute(insert(table), {"at": datetime(2025, 3, 1, 8, 0)})  # noqa: DTZ001
    finally:
        engine.dispose()
