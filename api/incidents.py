"""IncidentEndStore: each ViolationEnd applied to its stored violation once, or kept until it comes.

An end can be handled before its start: rarely after an outage (the edge replays its outbox in
order), but with a shared subscription two replicas may handle an incident's start and end at the
same moment. So an end whose violation is missing is written to pending_violation_ends and
committed, and only then is the violation looked for again; the ingest commits new violations and
only then looks for their pending ends (`claim_pending`). Of two such writers, the one that commits
second reads after the other's commit and sees its row, so no end is lost; applying only while
`ended_at` is NULL makes a second application (or a redelivery) change nothing.
"""

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.db import Database
from api.models import PendingEndRow, ViolationRow
from contracts import ViolationEnd

logger = logging.getLogger(__name__)


class EndOutcome(StrEnum):
    APPLIED = "applied"  # the violation has its end now
    DUPLICATE = "duplicate"  # it had one already (a redelivery): nothing changed
    PENDING = "pending"  # its violation is not stored yet: kept, applied when it arrives
    MISMATCH = "mismatch"  # the violation is another site's, edge's or camera's: never applied


@dataclass(frozen=True, slots=True)
class EndResult:
    outcome: EndOutcome
    detail: str | None = None  # what did not match, for a MISMATCH


@dataclass(frozen=True, slots=True)
class _Owner:
    """Whose a stored violation is, and whether it has ended."""

    site: str
    edge: str
    camera: str
    ended_at: datetime | None


class IncidentEndStore:
    """Writes of incident ends; safe to call from several threads and several replicas."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._insert = sqlite.insert if database.dialect == "sqlite" else postgresql.insert

    def apply(self, ends: Sequence[tuple[ViolationEnd, datetime]]) -> list[EndResult]:
        """Per (end, received_at), what became of it; an id repeated in `ends` counts once."""
        results: list[EndResult | None] = [None] * len(ends)
        first: dict[UUID, int] = {}
        for index, (end, _at) in enumerate(ends):
            if end.violation_id in first:
                results[index] = EndResult(EndOutcome.DUPLICATE)
            else:
                first[end.violation_id] = index
        missing: list[int] = []
        with self._db.session("apply violation ends") as session:
            owners = _owners(session, first)
            for violation_id, index in first.items():
                owner = owners.get(violation_id)
                if owner is None:
                    missing.append(index)
                else:
                    results[index] = _apply_one(session, ends[index][0], owner)
            session.commit()
        if missing:
            self._keep([ends[index] for index in missing])
            claimed = self._claim([ends[index][0].violation_id for index in missing])
            for index in missing:
                found = claimed.get(ends[index][0].violation_id)
                results[index] = found[1] if found else EndResult(EndOutcome.PENDING)
        return [result or EndResult(EndOutcome.DUPLICATE) for result in results]

    def claim_pending(self, violation_ids: Collection[UUID]) -> list[ViolationEnd]:
        """Apply the kept ends of these (just stored) violations; the ends that were applied."""
        claimed = self._claim(violation_ids)
        return [end for end, result in claimed.values() if result.outcome is EndOutcome.APPLIED]

    def discard_kept(self, *, received_before: datetime) -> int:
        """Drop kept ends whose violation never came (its edge lost it); how many were dropped."""
        statement = (
            delete(PendingEndRow)
            .where(PendingEndRow.received_at < received_before)
            .returning(PendingEndRow.violation_id)
        )
        with self._db.session("discard kept violation ends") as session:
            dropped = len(session.execute(statement).all())
            session.commit()
        if dropped:
            logger.warning(
                "kept violation ends discarded, their violations never arrived count=%d", dropped
            )
        return dropped

    def _keep(self, ends: Sequence[tuple[ViolationEnd, datetime]]) -> None:
        rows = [
            {
                "violation_id": end.violation_id,
                "site": end.site,
                "edge": end.edge,
                "camera": end.camera,
                "ended_at": end.ended_at,
                "duration_s": end.duration_s,
                "max_count": end.max_count,
                "received_at": received_at,
            }
            for end, received_at in ends
        ]
        statement = self._insert(PendingEndRow).on_conflict_do_nothing(
            index_elements=[PendingEndRow.violation_id]
        )
        with self._db.session("keep violation ends") as session:
            session.execute(statement, rows)
            session.commit()

    def _claim(self, violation_ids: Collection[UUID]) -> dict[UUID, tuple[ViolationEnd, EndResult]]:
        if not violation_ids:
            return {}
        claimed: dict[UUID, tuple[ViolationEnd, EndResult]] = {}
        with self._db.session("apply pending violation ends") as session:
            kept = session.scalars(
                select(PendingEndRow).where(PendingEndRow.violation_id.in_(violation_ids))
            ).all()
            if not kept:
                return {}
            owners = _owners(session, [row.violation_id for row in kept])
            for row in kept:
                owner = owners.get(row.violation_id)
                if owner is None:
                    continue  # still on its way
                end = ViolationEnd(
                    violation_id=row.violation_id,
                    site=row.site,
                    edge=row.edge,
                    camera=row.camera,
                    ended_at=row.ended_at,
                    duration_s=row.duration_s,
                    max_count=row.max_count,
                )
                result = _apply_one(session, end, owner)
                if result.outcome is EndOutcome.MISMATCH:
                    logger.warning(
                        "kept violation end discarded violation_id=%s reason=%s",
                        row.violation_id,
                        result.detail,
                    )
                session.execute(
                    delete(PendingEndRow).where(PendingEndRow.violation_id == row.violation_id)
                )
                claimed[row.violation_id] = (end, result)
            session.commit()
        return claimed


def _owners(session: Session, violation_ids: Collection[UUID]) -> dict[UUID, _Owner]:
    query = select(
        ViolationRow.violation_id,
        ViolationRow.site,
        ViolationRow.edge,
        ViolationRow.camera,
        ViolationRow.ended_at,
    ).where(ViolationRow.violation_id.in_(violation_ids))
    return {
        row.violation_id: _Owner(row.site, row.edge, row.camera, row.ended_at)
        for row in session.execute(query)
    }


def _apply_one(session: Session, end: ViolationEnd, owner: _Owner) -> EndResult:
    if (owner.site, owner.edge, owner.camera) != (end.site, end.edge, end.camera):
        detail = (
            f"violation {end.violation_id} is {owner.site}/{owner.edge}/{owner.camera}, "
            f"the end names {end.site}/{end.edge}/{end.camera}"
        )
        return EndResult(EndOutcome.MISMATCH, detail)
    if owner.ended_at is not None:
        return EndResult(EndOutcome.DUPLICATE)
    statement = (
        update(ViolationRow)
        .where(ViolationRow.violation_id == end.violation_id, ViolationRow.ended_at.is_(None))
        .values(ended_at=end.ended_at, duration_s=end.duration_s, max_count=end.max_count)
        .returning(ViolationRow.violation_id)
    )
    applied = session.execute(statement).first() is not None
    return EndResult(EndOutcome.APPLIED if applied else EndOutcome.DUPLICATE)
