"""Database engine, sessions, declarative base and column types alike on SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Dialect, Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import (
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from api.errors import ConflictError, StorageError

SUPPORTED_DIALECTS = ("sqlite", "postgresql")
SQLITE_BUSY_TIMEOUT_MS = 10_000


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC and read back aware, even on SQLite, which drops offsets."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given: only aware UTC is stored")
        value = value.astimezone(UTC)
        # SQLite stores text: one fixed offset (UTC, dropped) keeps text order equal to time order
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002  (the signature TypeDecorator calls)
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table the service owns."""


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the pages read while the ingest writes; the busy timeout makes writers queue
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def make_engine(database_url: str) -> Engine:
    """An engine for `database_url` (sqlite:///... or postgresql+psycopg://...).

    For a SQLite file, the parent directory is created. Raises StorageError for another database.
    """
    url = make_url(database_url)
    dialect = url.get_backend_name()
    if dialect not in SUPPORTED_DIALECTS:
        raise StorageError(
            f"database URL scheme {url.drivername!r} is not supported: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB",
            transient=False,
        )
    if dialect == "sqlite":
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


_TRANSIENT_ERRORS = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)


class Database:
    """Sessions on one engine; database errors come out as StorageError naming the action."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect.name
        if dialect not in SUPPORTED_DIALECTS:
            raise StorageError(f"unsupported database dialect {dialect!r}", transient=False)
        self.engine = engine
        self.dialect = dialect
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self, action: str) -> Iterator[Session]:
        try:
            with self._sessions() as session:
                yield session
        except IntegrityError as err:  # a unique or foreign key constraint: not an outage
            raise ConflictError(f"{action}: conflicts with what is stored") from err
        except SQLAlchemyError as err:
            transient = isinstance(err, _TRANSIENT_ERRORS) or bool(
                getattr(err, "connection_invalidated", False)
            )
            # the driver's message names the failing statement, never the stored values' secrets
            raise StorageError(
                f"{action} failed: {type(err).__name__}: {err}", transient=transient
            ) from err
