"""ViolationStore: idempotent writes of violations, their ends and statuses; filtered reads."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from api.db import Database
from api.incidents import EndResult, IncidentEndStore
from api.models import CLOSED_STATES, CaseState, EdgeStatusRow, ViolationRow
from api.workflow import DeadlinePolicy
from contracts import EdgeState, EdgeStatus, ViolationEnd, ViolationEvent, ViolationKind


@dataclass(frozen=True, slots=True)
class ViolationFilter:
    """Every field narrows the result; `since` is inclusive, `until` exclusive (both aware)."""

    site: str | None = None
    camera: str | None = None
    kind: ViolationKind | None = None
    since: datetime | None = None
    until: datetime | None = None
    sites: frozenset[str] | None = None  # the caller's scope; None: every site
    states: frozenset[CaseState] | None = None
    severity: int | None = None
    open_only: bool = False
    deadline_before: datetime | None = None  # exclusive
    deadline_from: datetime | None = None  # inclusive


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ViolationList:
    rows: tuple[ViolationRow, ...]  # newest first
    total: int  # matching rows across all pages


class ViolationStore:
    """Reads and writes of violations and edge statuses; safe to call from several threads."""

    def __init__(self, engine: Engine, *, deadlines: DeadlinePolicy | None = None) -> None:
        self._db = Database(engine)
        self._engine = engine
        self._insert = sqlite.insert if self._db.dialect == "sqlite" else postgresql.insert
        self.deadlines = deadlines or DeadlinePolicy()
        self._ends = IncidentEndStore(self._db)

    @property
    def database(self) -> Database:
        return self._db

    def _violation_values(self, event: ViolationEvent, received_at: datetime) -> dict[str, Any]:
        return {
            "violation_id": event.violation_id,
            "schema_version": event.schema_version,
            "site": event.site,
            "edge": event.edge,
            "camera": event.camera,
            "rule": event.rule,
            "kind": event.kind.value,
            "severity": event.severity,
            "confidence": event.confidence,
            "boxes": [box.model_dump(mode="json") for box in event.boxes],
            "zone": event.zone,
            "occurred_at": event.occurred_at,
            "received_at": received_at,
            "has_snapshot": event.has_snapshot,
            "has_clip": event.has_clip,
            "track_id": event.track_id,
            "count": event.count,
            "state": CaseState.NEW.value,
            "deadline_at": self.deadlines.deadline(event.severity, event.occurred_at),
        }

    def _insert_one(self, session: Session, event: ViolationEvent, received_at: datetime) -> bool:
        statement = (
            self._insert(ViolationRow)
            .values(self._violation_values(event, received_at))
            .on_conflict_do_nothing(index_elements=[ViolationRow.violation_id])
            .returning(ViolationRow.violation_id)
        )
        return session.execute(statement).first() is not None

    def insert_if_new(self, event: ViolationEvent, *, received_at: datetime) -> bool:
        """Store `event` unless its violation_id is already there; True when a row was added.

        One INSERT .. ON CONFLICT DO NOTHING, so concurrent writers of the same id store it once.
        """
        with self._db.session("insert violation") as session:
            added = self._insert_one(session, event, received_at)
            session.commit()
        return added

    def insert_batch(self, events: Sequence[tuple[ViolationEvent, datetime]]) -> list[bool]:
        """Store many (event, received_at) in one transaction; per event, True when it was new.

        One multi-row INSERT .. ON CONFLICT DO NOTHING RETURNING and one commit for the batch
        are what make the ingest fast: per-row statements and per-row commits (disk syncs) are
        what would cost. An id repeated within the batch counts as new once, at its first place.
        """
        first_index: dict[UUID, int] = {}
        for index, (event, _at) in enumerate(events):
            first_index.setdefault(event.violation_id, index)
        rows = [
            self._violation_values(event, at)
            for index, (event, at) in enumerate(events)
            if first_index[event.violation_id] == index
        ]
        if not rows:
            return []
        statement = (
            self._insert(ViolationRow)
            .on_conflict_do_nothing(index_elements=[ViolationRow.violation_id])
            .returning(ViolationRow.violation_id)
        )
        with self._db.session("insert violations") as session:
            stored = set(session.scalars(statement, rows))
            session.commit()
        return [
            event.violation_id in stored and first_index[event.violation_id] == index
            for index, (event, _at) in enumerate(events)
        ]

    def apply_ends(self, ends: Sequence[tuple[ViolationEnd, datetime]]) -> list[EndResult]:
        """Give each end's violation its end once; keep an end whose violation is not here yet."""
        return self._ends.apply(ends)

    def claim_pending_ends(self, violation_ids: Collection[UUID]) -> list[ViolationEnd]:
        """Apply the kept ends of these stored violations; the ends that were applied now."""
        return self._ends.claim_pending(violation_ids)

    def discard_kept_ends(self, *, received_before: datetime) -> int:
        """Drop ends kept since before `received_before` whose violation never arrived."""
        return self._ends.discard_kept(received_before=received_before)

    def upsert_status(self, status: EdgeStatus, *, received_at: datetime) -> bool:
        """Keep the newest status per edge; True when `status` replaced (or created) the row.

        A report older than the stored one is ignored, except an offline report over an online
        row: the broker publishes the edge's last will, stamped when the edge connected, after
        the newer reports it supersedes (MQTT keeps the order of one topic's messages).
        """
        insert = self._insert(EdgeStatusRow)
        values = insert.values(
            site=status.site,
            edge=status.edge,
            state=status.state.value,
            reported_at=status.reported_at,
            received_at=received_at,
            cameras={
                camera: camera_status.model_dump(mode="json")
                for camera, camera_status in status.cameras.items()
            },
        )
        newer: ColumnElement[bool] = or_(
            EdgeStatusRow.reported_at < values.excluded.reported_at,
            and_(
                values.excluded.state == EdgeState.OFFLINE.value,
                EdgeStatusRow.state != EdgeState.OFFLINE.value,
            ),
        )
        statement = values.on_conflict_do_update(
            index_elements=[EdgeStatusRow.site, EdgeStatusRow.edge],
            set_={
                "state": values.excluded.state,
                "reported_at": values.excluded.reported_at,
                "received_at": values.excluded.received_at,
                "cameras": values.excluded.cameras,
            },
            where=newer,
        ).returning(EdgeStatusRow.site)
        with self._db.session("upsert edge status") as session:
            applied = session.execute(statement).first() is not None
            session.commit()
        return applied

    def list(self, filters: ViolationFilter, page: PageRequest) -> ViolationList:
        """Violations matching `filters`, newest `occurred_at` first, and how many match in all."""
        conditions = _conditions(filters)
        count = select(func.count()).select_from(ViolationRow).where(*conditions)
        query = (
            select(ViolationRow)
            .where(*conditions)
            .order_by(ViolationRow.occurred_at.desc(), ViolationRow.violation_id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        with self._db.session("list violations") as session:
            total = session.scalar(count) or 0
            rows = tuple(session.scalars(query).all())
        return ViolationList(rows=rows, total=total)

    def all_matching(self, filters: ViolationFilter, *, limit: int) -> Sequence[ViolationRow]:
        """Up to `limit` matching rows, oldest first (statistics and exports)."""
        query = (
            select(ViolationRow)
            .where(*_conditions(filters))
            .order_by(ViolationRow.occurred_at, ViolationRow.violation_id)
            .limit(limit)
        )
        with self._db.session("read violations") as session:
            return tuple(session.scalars(query).all())

    def get(self, violation_id: UUID) -> ViolationRow | None:
        with self._db.session("get violation") as session:
            return session.get(ViolationRow, violation_id)

    def edge_statuses(self, sites: frozenset[str] | None = None) -> Sequence[EdgeStatusRow]:
        """The last status of every edge that ever reported, ordered by site and edge."""
        query = select(EdgeStatusRow).order_by(EdgeStatusRow.site, EdgeStatusRow.edge)
        if sites is not None:
            query = query.where(EdgeStatusRow.site.in_(sites))
        with self._db.session("list edge statuses") as session:
            return tuple(session.scalars(query).all())

    def ping(self) -> None:
        """Raise StorageError unless the database answers a trivial query."""
        with self._db.session("ping database") as session:
            session.execute(text("SELECT 1"))


def _conditions(filters: ViolationFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.sites is not None:
        conditions.append(ViolationRow.site.in_(filters.sites))
    if filters.site is not None:
        conditions.append(ViolationRow.site == filters.site)
    if filters.camera is not None:
        conditions.append(ViolationRow.camera == filters.camera)
    if filters.kind is not None:
        conditions.append(ViolationRow.kind == filters.kind.value)
    if filters.since is not None:
        conditions.append(ViolationRow.occurred_at >= filters.since)
    if filters.until is not None:
        conditions.append(ViolationRow.occurred_at < filters.until)
    if filters.states is not None:
        conditions.append(ViolationRow.state.in_([state.value for state in filters.states]))
    if filters.open_only:
        conditions.append(ViolationRow.state.not_in([state.value for state in CLOSED_STATES]))
    if filters.severity is not None:
        conditions.append(ViolationRow.severity == filters.severity)
    if filters.deadline_before is not None:
        conditions.append(ViolationRow.deadline_at < filters.deadline_before)
    if filters.deadline_from is not None:
        conditions.append(ViolationRow.deadline_at >= filters.deadline_from)
    return conditions
