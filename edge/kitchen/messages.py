"""IncidentEvent -> the wire: a START becomes a ViolationEvent, an END a ViolationEnd.

The violation_id is the incident id, so the end (and any evidence upload) refers to the event the
API already has. occurred_at is the frame that completed the rule's persistence (`at` of the
START, where the clip's pre-roll is centred); ViolationEnd.duration_s runs from the condition's
start (started_at, min_duration_s earlier) to its end. UPDATE events have no message of their own.
"""

from contracts import ViolationEnd, ViolationEvent
from edge.kitchen.incidents import IncidentEvent, IncidentPhase
from edge.violation import wire_boxes


def violation_event(
    event: IncidentEvent,
    *,
    site: str,
    edge: str,
    has_snapshot: bool = False,
    has_clip: bool = False,
) -> ViolationEvent:
    if event.phase is not IncidentPhase.START:
        raise ValueError(f"a ViolationEvent comes from a start event, not {event.phase.value}")
    return ViolationEvent(
        violation_id=event.incident_id,
        site=site,
        edge=edge,
        camera=event.camera_id,
        rule=event.rule_id,
        kind=event.kind,
        severity=event.severity,
        confidence=min(max(event.confidence, 0.0), 1.0),
        boxes=wire_boxes(event.boxes),
        zone=event.zone_id,
        occurred_at=event.at,
        has_snapshot=has_snapshot,
        has_clip=has_clip,
        track_id=event.track_id,
        count=max(1, event.count),
    )


def violation_end(event: IncidentEvent, *, site: str, edge: str) -> ViolationEnd:
    if event.phase is not IncidentPhase.END or event.ended_at is None:
        raise ValueError(f"a ViolationEnd comes from an end event, not {event.phase.value}")
    return ViolationEnd(
        violation_id=event.incident_id,
        site=site,
        edge=edge,
        camera=event.camera_id,
        ended_at=event.ended_at,
        duration_s=event.duration_s,
        max_count=max(1, event.max_count),
    )
