"""Violations: the scoped list and queue, one case with its history, and the review actions."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile, status
from pydantic import AwareDatetime
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.access import Reader, Staff, Supervisor
from api.cases import AttachStep
from api.deps import Components, ComponentsDep
from api.evidence import Upload
from api.live import LiveEvent
from api.models import CaseState, EvidenceRow, ViolationRow
from api.principal import Principal
from api.routes.openapi import CONFLICT, NOT_FOUND
from api.schemas import (
    CasePublic,
    DeadlineIn,
    EvidencePublic,
    NoteIn,
    TransitionPublic,
    ViolationPage,
    ViolationPublic,
)
from api.store import PageRequest, ViolationFilter
from api.workflow import Action, Escalation
from contracts import IDENTIFIER_PATTERN, ViolationKind

router = APIRouter(prefix="/api/v1", tags=["violations"])

IdentifierQuery = Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN)]


def public_violation(components: Components, row: ViolationRow) -> ViolationPublic:
    escalation = components.store.deadlines.escalation(
        severity=row.severity,
        state=CaseState(row.state),
        deadline_at=row.deadline_at,
        now=components.clock(),
    )
    return ViolationPublic.from_row(row, escalation=escalation)


def _escalation_filter(components: Components, escalation: Escalation) -> ViolationFilter:
    now = components.clock()
    policy = components.store.deadlines
    if escalation is Escalation.OVERDUE:
        return ViolationFilter(open_only=True, deadline_before=now)
    if escalation is Escalation.YELLOW:
        return ViolationFilter(
            open_only=True,
            severity=1,
            deadline_before=now - policy.yellow_after,
            deadline_from=now - policy.red_after,
        )
    if escalation is Escalation.RED:
        return ViolationFilter(open_only=True, severity=1, deadline_before=now - policy.red_after)
    return ViolationFilter()


@router.get("/violations")
def list_violations(
    components: ComponentsDep,
    caller: Reader,
    site: IdentifierQuery = None,
    camera: IdentifierQuery = None,
    kind: ViolationKind | None = None,
    state: Annotated[list[CaseState] | None, Query(description="any of these states")] = None,
    severity: Annotated[int | None, Query(ge=1, le=3)] = None,
    escalation: Annotated[
        Escalation | None, Query(description="overdue (any tier), yellow or red (tier 1)")
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="inclusive")] = None,
    until: Annotated[AwareDatetime | None, Query(description="exclusive")] = None,
    limit: Annotated[int | None, Query(ge=1, description="page size (default 50)")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ViolationPage:
    """Violations of the caller's sites matching every given filter, newest first."""
    settings = components.settings
    if limit is None:
        limit = settings.page_size_default
    if limit > settings.page_size_max:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"limit: at most {settings.page_size_max} per page, got {limit}",
        )
    if since is not None and until is not None and since >= until:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="since: must be earlier than until"
        )
    base = _escalation_filter(components, escalation) if escalation else ViolationFilter()
    filters = ViolationFilter(
        site=site,
        camera=camera,
        kind=kind,
        since=since,
        until=until,
        sites=caller.sites,
        states=frozenset(state) if state else None,
        severity=severity if severity is not None else base.severity,
        open_only=base.open_only,
        deadline_before=base.deadline_before,
        deadline_from=base.deadline_from,
    )
    found = components.store.list(filters, PageRequest(limit=limit, offset=offset))
    return ViolationPage(
        items=tuple(public_violation(components, row) for row in found.rows),
        total=found.total,
        limit=limit,
        offset=offset,
    )


@router.get("/violations/{violation_id}", responses=NOT_FOUND)
def get_violation(components: ComponentsDep, caller: Reader, violation_id: UUID) -> ViolationPublic:
    return public_violation(components, components.cases.visible(violation_id, caller))


def _evidence_public(row: EvidenceRow) -> EvidencePublic:
    if row.kind == "photo":
        url = f"/api/v1/violations/{row.violation_id}/photos/{row.id}"
    else:
        url = f"/api/v1/violations/{row.violation_id}/{row.kind}"
    return EvidencePublic(
        id=row.id,
        kind=row.kind,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        created_at=row.created_at,
        url=url,
    )


@router.get("/violations/{violation_id}/case", responses=NOT_FOUND)
def get_case(components: ComponentsDep, caller: Reader, violation_id: UUID) -> CasePublic:
    """The violation with every transition (who, when, from, to, note) and its evidence files."""
    row = components.cases.visible(violation_id, caller)
    return CasePublic(
        violation=public_violation(components, row),
        transitions=tuple(
            TransitionPublic.from_row(t) for t in components.cases.transitions(violation_id)
        ),
        evidence=tuple(_evidence_public(e) for e in components.evidence.of_violation(violation_id)),
    )


def _acted(
    components: Components,
    violation_id: UUID,
    action: Action,
    caller: Principal,
    note: str | None = None,
    *,
    deadline_at: datetime | None = None,
    attach: AttachStep | None = None,
) -> ViolationPublic:
    row = components.cases.act(
        violation_id,
        action,
        caller,
        now=components.clock(),
        note=note,
        deadline_at=deadline_at,
        attach=attach,
    )
    violation = public_violation(components, row)
    components.hub.publish_threadsafe(
        LiveEvent(
            event="case",
            event_id=f"{violation_id}:{row.state}",
            data=violation.model_dump_json(),
            site=row.site,
        )
    )
    return violation


@router.post("/violations/{violation_id}/acknowledge", responses={**NOT_FOUND, **CONFLICT})
def acknowledge(
    components: ComponentsDep, caller: Staff, violation_id: UUID, body: NoteIn | None = None
) -> ViolationPublic:
    """Staff: seen, on it (new -> acknowledged)."""
    note = body.note if body else None
    return _acted(components, violation_id, Action.ACKNOWLEDGE, caller, note)


@router.post("/violations/{violation_id}/rectify", responses={**NOT_FOUND, **CONFLICT})
async def rectify(
    components: ComponentsDep,
    caller: Staff,
    violation_id: UUID,
    note: Annotated[str, Form(min_length=1, max_length=2000)],
    photo: Annotated[UploadFile, File(description="JPEG or PNG of the fixed situation")],
) -> ViolationPublic:
    """Staff: what was done, with a photo (acknowledged -> rectified)."""
    max_bytes = components.settings.photo_max_bytes
    data = await photo.read(max_bytes + 1)
    upload = Upload(data=data, declared_type=photo.content_type, declared_sha256=None)
    now = components.clock()

    def attach(session: Session, violation: ViolationRow) -> None:
        components.evidence.attach_photo(
            session, violation, upload, caller, max_bytes=max_bytes, now=now
        )

    return await run_in_threadpool(
        _acted, components, violation_id, Action.RECTIFY, caller, note, attach=attach
    )


@router.post("/violations/{violation_id}/verify", responses={**NOT_FOUND, **CONFLICT})
def verify(
    components: ComponentsDep, caller: Supervisor, violation_id: UUID, body: NoteIn | None = None
) -> ViolationPublic:
    """Supervisor: the rectification holds (rectified -> verified, closed)."""
    note = body.note if body else None
    return _acted(components, violation_id, Action.VERIFY, caller, note)


@router.post("/violations/{violation_id}/send-back", responses={**NOT_FOUND, **CONFLICT})
def send_back(
    components: ComponentsDep, caller: Supervisor, violation_id: UUID, body: NoteIn
) -> ViolationPublic:
    """Supervisor: not good enough, with a note (rectified -> acknowledged)."""
    return _acted(components, violation_id, Action.SEND_BACK, caller, body.note)


@router.post("/violations/{violation_id}/dismiss", responses={**NOT_FOUND, **CONFLICT})
def dismiss(
    components: ComponentsDep, caller: Supervisor, violation_id: UUID, body: NoteIn
) -> ViolationPublic:
    """Supervisor: a false alarm, with the reason (new or acknowledged -> dismissed)."""
    return _acted(components, violation_id, Action.DISMISS, caller, body.note)


@router.post("/violations/{violation_id}/confirm", responses={**NOT_FOUND, **CONFLICT})
def confirm(
    components: ComponentsDep, caller: Supervisor, violation_id: UUID, body: NoteIn | None = None
) -> ViolationPublic:
    """Supervisor: a real violation (the state stays; it joins the training set's positives)."""
    note = body.note if body else None
    return _acted(components, violation_id, Action.CONFIRM, caller, note)


@router.post("/violations/{violation_id}/deadline", responses={**NOT_FOUND, **CONFLICT})
def set_deadline(
    components: ComponentsDep, caller: Supervisor, violation_id: UUID, body: DeadlineIn
) -> ViolationPublic:
    """Supervisor: a rectification deadline other than the severity tier's."""
    return _acted(
        components,
        violation_id,
        Action.SET_DEADLINE,
        caller,
        body.note,
        deadline_at=body.deadline_at,
    )
