"""CaseStore: applies review actions to violations, one recorded transition per action."""

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.db import Database
from api.errors import InvalidRequestError, NotFoundError, TransitionError
from api.models import CLOSED_STATES, CaseState, TransitionRow, ViolationRow
from api.principal import Principal
from api.workflow import Action, next_state

# runs inside the action's transaction (e.g. storing the rectification photo)
AttachStep = Callable[[Session, ViolationRow], None]


class CaseStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def visible(self, violation_id: UUID, principal: Principal) -> ViolationRow:
        """The violation if the caller may see it; NotFoundError alike for missing and hidden."""
        with self._db.session("get violation") as session:
            row = session.get(ViolationRow, violation_id)
        if row is None or not principal.sees_site(row.site):
            raise NotFoundError(f"violation {violation_id} not found")
        return row

    def act(
        self,
        violation_id: UUID,
        action: Action,
        principal: Principal,
        *,
        now: datetime,
        note: str | None = None,
        deadline_at: datetime | None = None,
        attach: AttachStep | None = None,
    ) -> ViolationRow:
        """Apply `action` as `principal`; TransitionError when the case's state forbids it."""
        if action is Action.SET_DEADLINE and (deadline_at is None or deadline_at <= now):
            raise InvalidRequestError("deadline_at: a deadline in the future is required")
        with self._db.session(f"{action} violation") as session:
            row = session.get(ViolationRow, violation_id)
            if row is None or not principal.sees_site(row.site):
                raise NotFoundError(f"violation {violation_id} not found")
            before = CaseState(row.state)
            after = next_state(before, action, note=note)
            values: dict[str, object] = {"state": after.value}
            if after is not before:
                values["state_changed_at"] = now
                values["closed_at"] = now if after in CLOSED_STATES else None
            if action is Action.CONFIRM:
                if row.confirmed_at is not None:
                    raise TransitionError("confirm: this case was confirmed already")
                values["confirmed_at"] = now
            if action is Action.SET_DEADLINE:
                values["deadline_at"] = deadline_at
                note = f"{deadline_at.isoformat() if deadline_at else ''} {note or ''}".strip()
            # only if nobody moved the case meanwhile: concurrent actions cannot both apply
            changed = session.execute(
                update(ViolationRow)
                .where(ViolationRow.violation_id == violation_id, ViolationRow.state == before)
                .values(values)
                .returning(ViolationRow.violation_id)
            ).first()
            if changed is None:
                raise TransitionError(f"{action}: the case changed meanwhile, reload it")
            if attach is not None:
                attach(session, row)
            session.add(
                TransitionRow(
                    violation_id=violation_id,
                    action=action.value,
                    from_state=before.value,
                    to_state=after.value,
                    actor=principal.subject,
                    actor_role=principal.role.value,
                    at=now,
                    note=note.strip() if note else None,
                )
            )
            session.commit()
            refreshed = session.get(ViolationRow, violation_id, populate_existing=True)
        assert refreshed is not None
        return refreshed

    def transitions(self, violation_id: UUID) -> Sequence[TransitionRow]:
        query = (
            select(TransitionRow)
            .where(TransitionRow.violation_id == violation_id)
            .order_by(TransitionRow.id)
        )
        with self._db.session("list transitions") as session:
            return tuple(session.scalars(query))
