"""Alembic revisions, oldest first: v0001 is the walking skeleton's schema."""
