"""The walking skeleton's schema: violations and the last status per edge."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _at() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "violations",
        sa.Column("violation_id", sa.Uuid(), primary_key=True),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("edge", sa.String(64), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("boxes", _JSON, nullable=False),
        sa.Column("zone", sa.String(64), nullable=True),
        sa.Column("occurred_at", _at(), nullable=False),
        sa.Column("received_at", _at(), nullable=False),
        sa.Column("has_snapshot", sa.Boolean(), nullable=False),
        sa.Column("has_clip", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_violations_occurred_at", "violations", ["occurred_at"])
    op.create_index("ix_violations_site_occurred_at", "violations", ["site", "occurred_at"])
    op.create_index(
        "ix_violations_camera_occurred_at", "violations", ["site", "camera", "occurred_at"]
    )
    op.create_index("ix_violations_kind_occurred_at", "violations", ["kind", "occurred_at"])
    op.create_table(
        "edge_status",
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("edge", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reported_at", _at(), nullable=False),
        sa.Column("received_at", _at(), nullable=False),
        sa.Column("cameras", _JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("edge_status")
    op.drop_table("violations")
