"""Response models of the HTTP API (`*Public`), built from stored rows or ingested events."""

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.models import CaseState, EdgeStatusRow, TransitionRow, ViolationRow
from api.workflow import Action, Escalation
from contracts import (
    CameraStatus,
    EdgeState,
    NormalizedBox,
    ViolationEnd,
    ViolationEvent,
    ViolationKind,
)


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class ViolationPublic(_Public):
    violation_id: UUID
    site: str
    edge: str
    camera: str
    rule: str
    kind: ViolationKind
    severity: int = Field(description="1 immediate, 2 rectify by a deadline, 3 routine")
    confidence: float
    boxes: tuple[NormalizedBox, ...] = Field(description="detections in 0..1 frame coordinates")
    zone: str | None
    occurred_at: AwareDatetime
    received_at: AwareDatetime
    has_snapshot: bool
    has_clip: bool
    state: CaseState = CaseState.NEW
    deadline_at: AwareDatetime | None = None
    confirmed_at: AwareDatetime | None = None
    escalation: Escalation = Field(
        default=Escalation.NONE, description="overdue; yellow / red for overdue tier-1 cases"
    )
    track_id: int | None = Field(
        default=None, description="the tracked target (person, rodent) the incident belongs to"
    )
    count: int = Field(default=1, description="targets when the incident started (rodents)")
    ended_at: AwareDatetime | None = Field(
        default=None, description="when the condition stopped; null while the incident goes on"
    )
    duration_s: float | None = Field(
        default=None, description="how long the condition lasted; null while it goes on"
    )
    max_count: int | None = Field(
        default=None, description="the most targets seen during the incident, once it ended"
    )

    @classmethod
    def from_row(
        cls, row: ViolationRow, *, escalation: Escalation = Escalation.NONE
    ) -> "ViolationPublic":
        return cls.model_validate(row).model_copy(update={"escalation": escalation})

    @classmethod
    def from_event(
        cls, event: ViolationEvent, *, received_at: datetime, deadline_at: datetime | None = None
    ) -> "ViolationPublic":
        return cls(
            violation_id=event.violation_id,
            site=event.site,
            edge=event.edge,
            camera=event.camera,
            rule=event.rule,
            kind=event.kind,
            severity=event.severity,
            confidence=event.confidence,
            boxes=event.boxes,
            zone=event.zone,
            occurred_at=event.occurred_at,
            received_at=received_at,
            has_snapshot=event.has_snapshot,
            has_clip=event.has_clip,
            deadline_at=deadline_at,
            track_id=event.track_id,
            count=event.count,
        )

    def with_end(self, end: ViolationEnd) -> "ViolationPublic":
        return self.model_copy(
            update={
                "ended_at": end.ended_at,
                "duration_s": end.duration_s,
                "max_count": end.max_count,
            }
        )


class ViolationEndPublic(_Public):
    """The end of an incident, pushed live as `event: violation_end`."""

    violation_id: UUID
    site: str
    edge: str
    camera: str
    ended_at: AwareDatetime
    duration_s: float = Field(description="from the condition's start to its end")
    max_count: int = Field(description="the most targets seen during the incident")

    @classmethod
    def from_end(cls, end: ViolationEnd) -> "ViolationEndPublic":
        return cls.model_validate(end.model_dump(exclude={"schema_version"}))


class ViolationPage(_Public):
    items: tuple[ViolationPublic, ...] = Field(description="newest occurred_at first")
    total: int = Field(description="violations matching the filters across all pages")
    limit: int
    offset: int


class EdgeStatusPublic(_Public):
    site: str
    edge: str
    state: EdgeState
    reported_at: AwareDatetime
    received_at: AwareDatetime
    cameras: dict[str, CameraStatus]

    @classmethod
    def from_row(cls, row: EdgeStatusRow) -> "EdgeStatusPublic":
        return cls.model_validate(row)


class HealthPublic(_Public):
    status: str = Field(description="ok, or degraded when the database or the ingest is down")
    database: bool
    ingest: str = Field(description="connected, disconnected or disabled")


class TransitionPublic(_Public):
    action: Action
    from_state: CaseState
    to_state: CaseState
    actor: str
    actor_role: str
    at: AwareDatetime
    note: str | None

    @classmethod
    def from_row(cls, row: TransitionRow) -> "TransitionPublic":
        return cls.model_validate(row)


class EvidencePublic(_Public):
    id: int
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: AwareDatetime
    url: str


class CasePublic(_Public):
    """One violation with its history and its evidence files."""

    violation: ViolationPublic
    transitions: tuple[TransitionPublic, ...]
    evidence: tuple[EvidencePublic, ...]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)


class DeadlineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deadline_at: AwareDatetime
    note: str | None = Field(default=None, max_length=2000)
