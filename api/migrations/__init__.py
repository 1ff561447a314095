"""Alembic migrations of the service's database, run programmatically by `api.migrate`."""
