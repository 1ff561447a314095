"""Incidents: a violation's tracked target, count and end; ends that arrived before their start."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _at() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("violations") as batch:
        batch.add_column(sa.Column("track_id", sa.Integer(), nullable=True))
        # rows stored before incidents were counted were each one target
        batch.add_column(sa.Column("count", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("ended_at", _at(), nullable=True))
        batch.add_column(sa.Column("duration_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("max_count", sa.Integer(), nullable=True))

    op.create_table(
        "pending_violation_ends",
        sa.Column("violation_id", sa.Uuid(), primary_key=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("edge", sa.String(64), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("ended_at", _at(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("max_count", sa.Integer(), nullable=False),
        sa.Column("received_at", _at(), nullable=False),
    )
    op.create_index(
        "ix_pending_violation_ends_received_at", "pending_violation_ends", ["received_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_pending_violation_ends_received_at", table_name="pending_violation_ends")
    op.drop_table("pending_violation_ends")
    with op.batch_alter_table("violations") as batch:
        for column in ("max_count", "duration_s", "ended_at", "count", "track_id"):
            batch.drop_column(column)
