"""Violation -> ViolationEvent: every field, the violation's own id, the most confident boxes."""

from contracts import ViolationKind
from edge.violation import MAX_BOXES, Box, Violation, to_event, wire_boxes
from tests.conftest import EDGE, SITE
from tests.fixtures.edge import T0


def test_to_event_keeps_every_field_and_the_violations_own_id() -> None:
    violation = Violation(
        rule_id="rat",
        kind=ViolationKind.RODENT,
        severity=1,
        camera_id="cam-1",
        occurred_at=T0,
        confidence=0.8,
        boxes=(Box("rat", 0.8, 0.1, 0.2, 0.3, 0.4),),
        zone_id="store",
    )

    first = to_event(violation, site=SITE, edge=EDGE)
    again = to_event(violation, site=SITE, edge=EDGE)
    fields = {name: getattr(violation, name) for name in Violation.__dataclass_fields__}
    del fields["violation_id"]
    second = to_event(Violation(**fields), site=SITE, edge=EDGE)  # a new violation, a new id

    # the evidence recorder files the clip under this id: the event must carry the same one
    assert first.violation_id == again.violation_id == violation.violation_id
    assert second.violation_id != first.violation_id
    assert (first.camera, first.rule, first.zone, first.occurred_at) == (
        "cam-1",
        "rat",
        "store",
        T0,
    )
    assert first.boxes[0].model_dump() == {
        "label": "rat",
        "confidence": 0.8,
        "x1": 0.1,
        "y1": 0.2,
        "x2": 0.3,
        "y2": 0.4,
    }


def test_wire_boxes_keep_the_most_confident_up_to_the_contracts_limit() -> None:
    boxes = [Box("rat", (n % 1000) / 1000, 0.1, 0.2, 0.3, 0.4) for n in range(MAX_BOXES + 50)]

    kept = wire_boxes(boxes)

    assert len(kept) == MAX_BOXES
    assert [box.confidence for box in kept] == sorted(
        (box.confidence for box in boxes), reverse=True
    )[:MAX_BOXES]
