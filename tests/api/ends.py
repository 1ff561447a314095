"""ViolationEnd values for the API tests: the end of a given ViolationEvent's incident."""

from datetime import timedelta

from contracts import ViolationEnd, ViolationEvent

INCIDENT_S = 312.0  # shown as "5 min 12 s" / "5分12秒"


def end_of(
    event: ViolationEvent,
    *,
    duration_s: float = INCIDENT_S,
    max_count: int = 1,
    site: str | None = None,
    edge: str | None = None,
    camera: str | None = None,
) -> ViolationEnd:
    """The end of `event`'s incident, `duration_s` after it began (the event's defaults)."""
    return ViolationEnd(
        violation_id=event.violation_id,
        site=site or event.site,
        edge=edge or event.edge,
        camera=camera or event.camera,
        ended_at=event.occurred_at + timedelta(seconds=duration_s),
        duration_s=duration_s,
        max_count=max_count,
    )
