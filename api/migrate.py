"""migrate(engine): bring the database to the newest schema with the Alembic migrations."""

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SKELETON_REVISION = "0001"
# any constant shared by every replica: PostgreSQL serializes their migrations on it
_ADVISORY_LOCK_KEY = 0x42_4B_6D_69_67  # "BKmig"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade to `revision` (the newest by default); safe with several replicas starting at once.

    A database made by the walking skeleton (tables but no alembic_version) is stamped with the
    skeleton's revision first, so its rows are kept and upgraded.
    """
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            connection.commit()
        try:
            config = alembic_config(connection)
            before = current_revision(connection)
            if before is None and inspect(connection).has_table("violations"):
                logger.info("database made before migrations, stamping revision=%s", "0001")
                command.stamp(config, SKELETON_REVISION)
                connection.commit()
                before = SKELETON_REVISION
            command.upgrade(config, revision)
            connection.commit()
            after = current_revision(connection)
            if after != before:
                logger.info("database migrated from=%s to=%s", before, after)
        finally:
            if postgres:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                )
                connection.commit()
