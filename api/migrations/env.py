"""Alembic environment: runs on the connection `api.migrate` hands over, never on a URL."""

from alembic import context
from sqlalchemy.engine import Connection

import api.models  # noqa: F401  (registers every table on Base.metadata)
from api.db import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through api.migrate.migrate(engine), not the alembic CLI")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
