"""Retention: delete evidence of closed cases past its age, then the oldest while over quota.

Evidence of an open case is never deleted, whatever the quota says; every deletion is logged
and recorded in `evidence_deletions` with its reason.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from api.db import Database
from api.models import CLOSED_STATES, EvidenceDeletionRow, EvidenceRow, ViolationRow
from api.storage import Storage

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    max_age: timedelta
    quota_bytes: int


@dataclass(frozen=True, slots=True)
class RetentionReport:
    deleted_by_age: int
    deleted_by_quota: int
    freed_bytes: int
    usage_bytes: int  # after the run
    over_quota_open_bytes: int  # usage still over quota, all of it evidence of open cases


def apply_retention(
    database: Database, storage: Storage, policy: RetentionPolicy, *, now: datetime
) -> RetentionReport:
    closed = [state.value for state in CLOSED_STATES]
    deletable = (
        select(EvidenceRow)
        .join(ViolationRow, ViolationRow.violation_id == EvidenceRow.violation_id)
        .where(ViolationRow.state.in_(closed))
    )
    by_age = deletable.where(EvidenceRow.created_at < now - policy.max_age)
    freed = 0
    with database.session("apply retention by age") as session:
        aged = tuple(session.scalars(by_age.order_by(EvidenceRow.created_at, EvidenceRow.id)))
    for row in aged:
        freed += _delete(database, storage, row, reason="age", now=now)
    usage = _usage(database)
    quota_deleted = 0
    if usage > policy.quota_bytes:
        oldest_first = deletable.order_by(EvidenceRow.created_at, EvidenceRow.id)
        with database.session("apply retention by quota") as session:
            candidates = tuple(session.scalars(oldest_first))
        for row in candidates:
            if usage <= policy.quota_bytes:
                break
            size = _delete(database, storage, row, reason="quota", now=now)
            usage -= size
            freed += size
            quota_deleted += 1
    over = max(usage - policy.quota_bytes, 0)
    if over:
        logger.warning(
            "evidence over quota, all of it of open cases usage_bytes=%d quota_bytes=%d",
            usage,
            policy.quota_bytes,
        )
    return RetentionReport(len(aged), quota_deleted, freed, usage, over)


def _usage(database: Database) -> int:
    with database.session("evidence usage") as session:
        return int(session.scalar(select(func.sum(EvidenceRow.size_bytes))) or 0)


def _delete(
    database: Database, storage: Storage, row: EvidenceRow, *, reason: str, now: datetime
) -> int:
    storage.delete(row.storage_key)
    with database.session("record evidence deletion") as session:
        session.execute(delete(EvidenceRow).where(EvidenceRow.id == row.id))
        session.add(
            EvidenceDeletionRow(
                evidence_id=row.id,
                violation_id=row.violation_id,
                storage_key=row.storage_key,
                size_bytes=row.size_bytes,
                reason=reason,
                deleted_at=now,
            )
        )
        session.commit()
    logger.info(
        "evidence deleted reason=%s violation_id=%s kind=%s size_bytes=%d",
        reason,
        row.violation_id,
        row.kind,
        row.size_bytes,
    )
    return row.size_bytes
