"""Tables: violations with their review loop and incident ends, evidence, edge statuses, and the
registry of regions, sites, cameras, zones, users, sessions, edge devices and parent share links.

The schema is created and upgraded by the Alembic migrations in api/migrations; a test checks
that they produce exactly these tables on SQLite and PostgreSQL.
"""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime

IDENTIFIER_LENGTH = 64  # contracts.IDENTIFIER_PATTERN allows at most 64 characters
HASH_LENGTH = 64  # a SHA-256 in hex
_JSON = JSON().with_variant(JSONB(), "postgresql")

# JSON shapes kept as stored: boxes as contracts.NormalizedBox dumps, cameras as CameraStatus dumps
BoxesJson = list[dict[str, str | float]]
CamerasJson = dict[str, dict[str, str]]
PolygonJson = list[list[float]]


class CaseState(StrEnum):
    """Where a violation stands in the closed loop of ../shared/DOMAIN.md."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    RECTIFIED = "rectified"
    VERIFIED = "verified"
    DISMISSED = "dismissed"


CLOSED_STATES = frozenset({CaseState.VERIFIED, CaseState.DISMISSED})


class AreaType(StrEnum):
    """The kitchen area a camera watches; it decides which rules are strict."""

    ROUGH_PREP = "rough_prep"  # 粗加工
    COOKING = "cooking"  # 烹饪
    SPECIAL_ROOM = "special_room"  # 专间
    WASHING = "washing"  # 洗消
    STORAGE = "storage"  # 库房
    SAMPLE_KEEPING = "sample_keeping"  # 留样
    ENTRANCE = "entrance"  # 出入口


class EvidenceKind(StrEnum):
    CLIP = "clip"  # MP4 from the edge
    SNAPSHOT = "snapshot"  # JPEG from the edge
    PHOTO = "photo"  # the staff's rectification photo


class ViolationRow(Base):
    __tablename__ = "violations"
    __table_args__ = (
        Index("ix_violations_occurred_at", "occurred_at"),
        Index("ix_violations_site_occurred_at", "site", "occurred_at"),
        Index("ix_violations_camera_occurred_at", "site", "camera", "occurred_at"),
        Index("ix_violations_kind_occurred_at", "kind", "occurred_at"),
        Index("ix_violations_state", "state", "occurred_at"),
    )

    violation_id: Mapped[UUID] = mapped_column(Uuid(), primary_key=True)
    schema_version: Mapped[int] = mapped_column(Integer)
    site: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    edge: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    camera: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    rule: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    kind: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    severity: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float]
    boxes: Mapped[BoxesJson] = mapped_column(_JSON)
    zone: Mapped[str | None] = mapped_column(String(IDENTIFIER_LENGTH))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    has_snapshot: Mapped[bool]
    has_clip: Mapped[bool]
    # the review loop (migration 0002)
    state: Mapped[str] = mapped_column(String(16), server_default=CaseState.NEW.value)
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    state_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # the incident (migration 0003): its tracked target and count; its end once the edge sent it
    track_id: Mapped[int | None] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, server_default="1")
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    duration_s: Mapped[float | None] = mapped_column(Float)
    max_count: Mapped[int | None] = mapped_column(Integer)


class PendingEndRow(Base):
    """A ViolationEnd whose violation is not stored yet; applied when the violation arrives."""

    __tablename__ = "pending_violation_ends"
    __table_args__ = (Index("ix_pending_violation_ends_received_at", "received_at"),)

    violation_id: Mapped[UUID] = mapped_column(Uuid(), primary_key=True)
    site: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    edge: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    camera: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_s: Mapped[float] = mapped_column(Float)
    max_count: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TransitionRow(Base):
    """One step of a case: who did what, when, from which state to which, with a note."""

    __tablename__ = "transitions"
    __table_args__ = (Index("ix_transitions_violation", "violation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    violation_id: Mapped[UUID] = mapped_column(
        Uuid(), ForeignKey("violations.violation_id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    actor_role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text)


class EvidenceRow(Base):
    """A stored file about a violation; the name on disk is made of ids only."""

    __tablename__ = "evidence"
    __table_args__ = (
        Index("ix_evidence_violation", "violation_id"),
        Index("ix_evidence_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    violation_id: Mapped[UUID] = mapped_column(
        Uuid(), ForeignKey("violations.violation_id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    sha256: Mapped[str] = mapped_column(String(HASH_LENGTH))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    uploaded_by: Mapped[str] = mapped_column(String(128))


class EvidenceDeletionRow(Base):
    """What retention deleted and why (age or quota)."""

    __tablename__ = "evidence_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evidence_id: Mapped[int] = mapped_column(Integer)
    violation_id: Mapped[UUID] = mapped_column(Uuid())
    storage_key: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    deleted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EdgeStatusRow(Base):
    __tablename__ = "edge_status"

    site: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH), primary_key=True)
    edge: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cameras: Mapped[CamerasJson] = mapped_column(_JSON)


class RegionRow(Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class SiteRow(Base):
    """A canteen; `code` is the identifier the edges use in their topics and messages."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))


class CameraRow(Base):
    __tablename__ = "cameras"
    __table_args__ = (UniqueConstraint("site_id", "code", name="uq_cameras_site_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    area_type: Mapped[str] = mapped_column(String(32))
    public: Mapped[bool] = mapped_column(Boolean, server_default=false())


class ZoneRow(Base):
    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("camera_id", "code", name="uq_zones_camera_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    polygon: Mapped[PolygonJson] = mapped_column(_JSON)


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'admin') OR (role = 'supervisor' AND region_id IS NOT NULL) "
            "OR (role = 'staff' AND site_id IS NOT NULL)",
            name="ck_users_scope",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())


class SessionRow(Base):
    """A signed-in browser; only the hash of its cookie is stored. No user: the operator."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_expires_at", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EdgeDeviceRow(Base):
    """An edge worker: its HTTP token (hashed) and its Mosquitto password (Mosquitto's hash)."""

    __tablename__ = "edge_devices"
    __table_args__ = (UniqueConstraint("site_id", "edge", name="uq_edge_devices_site_edge"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    edge: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    mqtt_password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())


class ShareLinkRow(Base):
    """A parent's link (or QR code) to one site's live view; the token itself is never stored."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, server_default=false())
