"""Violation: what a rule reports for one camera frame, and the ViolationEvent it becomes."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from contracts import NormalizedBox, ViolationEvent, ViolationKind

MAX_BOXES = 256  # the contract's limit per event; the most confident are kept

# Severity tiers of ../shared/DOMAIN.md: 1 immediate, 2 rectify by a deadline, 3 routine.
DEFAULT_SEVERITY: dict[ViolationKind, int] = {
    ViolationKind.NO_HAT: 3,
    ViolationKind.NO_MASK: 3,
    ViolationKind.RODENT: 1,
    ViolationKind.UNCOVERED_FOOD: 2,
    ViolationKind.SMOKING: 2,
    ViolationKind.NO_UNIFORM: 3,
    ViolationKind.PHONE: 3,
    ViolationKind.INTRUSION: 2,
    ViolationKind.BIN_OPEN: 2,
    ViolationKind.CAMERA_OFFLINE: 2,
    ViolationKind.CAMERA_FROZEN: 2,
    ViolationKind.CAMERA_BLURRED_OR_COVERED: 2,
}


@dataclass(frozen=True, slots=True)
class Box:
    """One detection box in 0..1 frame coordinates."""

    label: str
    confidence: float
    x1: float
    y1: float
    x2: float
    y2: float

    def to_wire(self) -> NormalizedBox:
        """The contracts' form of this box (events carry these)."""
        return NormalizedBox(
            label=self.label,
            confidence=self.confidence,
            x1=self.x1,
            y1=self.y1,
            x2=self.x2,
            y2=self.y2,
        )


@dataclass(frozen=True, slots=True)
class Violation:
    rule_id: str
    kind: ViolationKind
    severity: int
    camera_id: str
    occurred_at: datetime  # aware UTC: captured_at of the frame that completed the persistence
    confidence: float  # the highest confidence among `boxes`
    boxes: tuple[Box, ...]
    zone_id: str | None  # None: the rule watches the whole frame
    # the published event's id, also the evidence's: fresh per violation unless given
    violation_id: uuid.UUID = field(default_factory=uuid.uuid4)


def wire_boxes(boxes: Iterable[Box]) -> tuple[NormalizedBox, ...]:
    """An event's boxes: the MAX_BOXES most confident, in the contracts' form."""
    kept = sorted(boxes, key=lambda box: box.confidence, reverse=True)[:MAX_BOXES]
    return tuple(box.to_wire() for box in kept)


def to_event(
    violation: Violation, *, site: str, edge: str, has_evidence: bool = False
) -> ViolationEvent:
    """The wire form of a violation under its violation_id (the API dedupes on it)."""
    return ViolationEvent(
        violation_id=violation.violation_id,
        site=site,
        edge=edge,
        camera=violation.camera_id,
        rule=violation.rule_id,
        kind=violation.kind,
        severity=violation.severity,
        confidence=violation.confidence,
        boxes=wire_boxes(violation.boxes),
        zone=violation.zone_id,
        occurred_at=violation.occurred_at,
        has_snapshot=has_evidence,
        has_clip=has_evidence,
    )
