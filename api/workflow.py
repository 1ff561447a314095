"""The closed loop as data: which action moves a case from which state, deadlines, escalation.

new -> acknowledged (staff) -> rectified (staff: note + photo) -> verified (supervisor)
                                         rectified -> acknowledged (supervisor sends it back)
new | acknowledged -> dismissed (supervisor: a false alarm, with a reason)
confirm and set_deadline (supervisor) leave the state as it is, and are recorded all the same.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from api.errors import InvalidRequestError, TransitionError
from api.models import CLOSED_STATES, CaseState
from api.principal import Role


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RECTIFY = "rectify"
    VERIFY = "verify"
    SEND_BACK = "send_back"
    DISMISS = "dismiss"
    CONFIRM = "confirm"
    SET_DEADLINE = "set_deadline"


@dataclass(frozen=True, slots=True)
class ActionRule:
    role: Role
    from_states: frozenset[CaseState]
    to_state: CaseState | None  # None: the state stays
    note_required: bool = False


_OPEN = frozenset(CaseState) - CLOSED_STATES
RULES: Final = MappingProxyType(
    {
        Action.ACKNOWLEDGE: ActionRule(
            Role.STAFF, frozenset({CaseState.NEW}), CaseState.ACKNOWLEDGED
        ),
        Action.RECTIFY: ActionRule(
            Role.STAFF,
            frozenset({CaseState.ACKNOWLEDGED}),
            CaseState.RECTIFIED,
            note_required=True,
        ),
        Action.VERIFY: ActionRule(
            Role.SUPERVISOR, frozenset({CaseState.RECTIFIED}), CaseState.VERIFIED
        ),
        Action.SEND_BACK: ActionRule(
            Role.SUPERVISOR,
            frozenset({CaseState.RECTIFIED}),
            CaseState.ACKNOWLEDGED,
            note_required=True,
        ),
        Action.DISMISS: ActionRule(
            Role.SUPERVISOR,
            frozenset({CaseState.NEW, CaseState.ACKNOWLEDGED}),
            CaseState.DISMISSED,
            note_required=True,
        ),
        Action.CONFIRM: ActionRule(Role.SUPERVISOR, _OPEN, None),
        Action.SET_DEADLINE: ActionRule(Role.SUPERVISOR, _OPEN, None),
    }
)


def next_state(state: CaseState, action: Action, *, note: str | None) -> CaseState:
    """The state after `action`; TransitionError naming both when the state does not allow it,
    InvalidRequestError when the action needs a note and has none."""
    rule = RULES[action]
    if state not in rule.from_states:
        allowed = ", ".join(sorted(rule.from_states))
        raise TransitionError(f"cannot {action} a case that is {state} (only when {allowed})")
    if rule.note_required and not (note and note.strip()):
        raise InvalidRequestError(f"note: {action} needs a note saying why or what was done")
    return rule.to_state or state


class Escalation(StrEnum):
    NONE = "none"
    OVERDUE = "overdue"  # past its deadline
    YELLOW = "yellow"  # a tier-1 case overdue by `yellow_after`
    RED = "red"  # a tier-1 case overdue by `red_after`


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """How long each severity tier has to be rectified, and when overdue tier-1 cases escalate."""

    tier1: timedelta = timedelta(hours=24)
    tier2: timedelta = timedelta(hours=72)
    tier3: timedelta = timedelta(hours=168)
    yellow_after: timedelta = timedelta(days=5)
    red_after: timedelta = timedelta(days=10)

    def deadline(self, severity: int, occurred_at: datetime) -> datetime:
        allowed = {1: self.tier1, 2: self.tier2}.get(severity, self.tier3)
        return occurred_at + allowed

    def escalation(
        self, *, severity: int, state: CaseState, deadline_at: datetime | None, now: datetime
    ) -> Escalation:
        if state in CLOSED_STATES or deadline_at is None or now <= deadline_at:
            return Escalation.NONE
        overdue = now - deadline_at
        if severity == 1 and overdue >= self.red_after:
            return Escalation.RED
        if severity == 1 and overdue >= self.yellow_after:
            return Escalation.YELLOW
        return Escalation.OVERDUE
