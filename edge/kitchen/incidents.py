"""Incidents: the life cycle of one rule's condition on one target, and the events it emits.

A Condition is fed observations of its target (VIOLATING, COMPLIANT or UNCERTAIN) with the time of
the frame they come from, and emits IncidentEvents:
- Pending: the first VIOLATING observation starts a pending period; it survives gaps of up to
  max_gap_s between VIOLATING observations (missed detections), is reset by a COMPLIANT one and
  neither advanced nor reset by UNCERTAIN ones (a gap longer than max_gap_s still resets it).
- Start: on a VIOLATING observation at least min_duration_s after the pending period began (or
  after the cooldown ended, if that is later) the incident opens with a new UUID; `started_at` is
  when the condition began, `at` the frame that completed the persistence.
- Open: VIOLATING observations keep it open (UPDATE when the count rises above its maximum);
  UNCERTAIN ones keep it open too (uncertain is not absent). COMPLIANT evidence spanning clear_s
  with no VIOLATING observation in between ends it, ended_at = the first COMPLIANT observation.
  No observation at all for longer than lost_s ends it too (the target left), ended_at = the last
  time it was seen. A rule may also end it (schedule over, shutdown, clock reset).
- Cooldown: after an end, no new incident opens for this target for cooldown_s.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from contracts import ViolationKind
from edge.violation import Box


class IncidentPhase(StrEnum):
    START = "start"
    UPDATE = "update"
    END = "end"


class EndReason(StrEnum):
    CLEARED = "cleared"  # compliant evidence for clear_s
    LOST = "lost"  # the target was not seen for lost_s
    SCHEDULE = "schedule"  # the rule's active time ended
    SHUTDOWN = "shutdown"  # the engine was closed
    CLOCK = "clock"  # frame times went backwards; all state was reset


class Observation(StrEnum):
    VIOLATING = "violating"
    COMPLIANT = "compliant"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class RuleIdentity:
    """What every event of one rule on one camera carries."""

    rule_id: str
    kind: ViolationKind
    severity: int
    camera_id: str


@dataclass(frozen=True, slots=True)
class Evidence:
    confidence: float
    boxes: tuple[Box, ...] = ()
    count: int = 1
    track_id: int | None = None
    zone_id: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    phase: IncidentPhase
    incident_id: uuid.UUID  # the same from START to END: the ViolationEvent's violation_id
    rule_id: str
    kind: ViolationKind
    severity: int
    camera_id: str
    at: datetime  # time of the frame (or tick) that produced this event
    started_at: datetime  # when the condition began (first violating observation)
    ended_at: datetime | None  # END only: when the condition stopped
    track_id: int | None  # the target's track (rodents: the most confident one at the start)
    count: int  # targets in the evidence now (rodents counted; 1 otherwise)
    max_count: int  # the most seen at once during this incident
    confidence: float  # the highest confidence of the incident's evidence so far
    boxes: tuple[Box, ...]  # 0..1 boxes of the latest violating evidence
    zone_id: str | None
    end_reason: EndReason | None = None

    @property
    def duration_s(self) -> float:
        """From the condition's start to its end (END) or to this event."""
        until = self.at if self.ended_at is None else self.ended_at
        return max(0.0, (until - self.started_at).total_seconds())


@dataclass(frozen=True, slots=True)
class Timing:
    min_duration_s: float = 3.0
    cooldown_s: float = 30.0
    max_gap_s: float = 1.0
    clear_s: float = 2.0
    lost_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("min_duration_s", "cooldown_s", "max_gap_s", "clear_s", "lost_s"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"{name} must be >= 0")


@dataclass(slots=True)
class _Open:
    incident_id: uuid.UUID
    started_at: datetime
    last_violating_at: datetime
    evidence: Evidence
    max_count: int
    confidence: float
    track_id: int | None  # fixed at the start, like zone_id: the incident's identity
    zone_id: str | None
    compliant_since: datetime | None = None


@dataclass(slots=True)
class Condition:
    """The incident life cycle of one target (a track, or a whole camera) of one rule."""

    identity: RuleIdentity
    timing: Timing
    new_id: Callable[[], uuid.UUID] = uuid.uuid4
    pending_since: datetime | None = None
    last_violating_at: datetime | None = None
    last_seen_at: datetime | None = None
    cooldown_until: datetime | None = None
    incident: _Open | None = field(default=None)

    @property
    def is_open(self) -> bool:
        return self.incident is not None

    @property
    def is_pending(self) -> bool:
        return self.pending_since is not None

    def is_idle(self, now: datetime) -> bool:
        """Nothing to remember: no incident, nothing pending, no cooldown running."""
        return (
            self.incident is None
            and self.pending_since is None
            and (self.cooldown_until is None or now >= self.cooldown_until)
        )

    def observe(
        self,
        now: datetime,
        observation: Observation,
        evidence: Evidence | None = None,
        *,
        since: datetime | None = None,
    ) -> list[IncidentEvent]:
        """Feed one observation; `since` (VIOLATING only): the condition is known to hold since
        then, earlier than this observation (a stream that stopped at its last frame)."""
        events = self.advance(now)
        self.last_seen_at = now
        if observation is Observation.VIOLATING:
            if evidence is None:
                raise ValueError("a violating observation needs its evidence")
            events.extend(self._violating(now, evidence, since))
        elif observation is Observation.COMPLIANT:
            events.extend(self._compliant(now))
        return events

    def advance(self, now: datetime) -> list[IncidentEvent]:
        """What time alone decides: a pending period that lapsed, a target lost for too long."""
        timing = self.timing
        if (
            self.pending_since is not None
            and self.last_violating_at is not None
            and _seconds(now - self.last_violating_at) > timing.max_gap_s
        ):
            self.pending_since = None
        if (
            self.incident is not None
            and self.last_seen_at is not None
            and _seconds(now - self.last_seen_at) > timing.lost_s
        ):
            return [self._end(now, self.last_seen_at, EndReason.LOST)]
        return []

    def end(self, now: datetime, reason: EndReason) -> list[IncidentEvent]:
        """End the open incident (if any) at the last time its target was seen; forget pending."""
        self.pending_since = None
        if self.incident is None:
            return []
        seen = self.last_seen_at or self.incident.last_violating_at
        return [self._end(now, seen, reason)]

    def _violating(
        self, now: datetime, evidence: Evidence, since: datetime | None
    ) -> list[IncidentEvent]:
        timing = self.timing
        if (
            self.pending_since is None
            or self.last_violating_at is None
            or _seconds(now - self.last_violating_at) > timing.max_gap_s
        ):
            self.pending_since = now if since is None else min(since, now)
        self.last_violating_at = now
        incident = self.incident
        if incident is not None:
            incident.last_violating_at = now
            incident.compliant_since = None
            incident.confidence = max(incident.confidence, evidence.confidence)
            incident.evidence = evidence
            if evidence.count > incident.max_count:
                incident.max_count = evidence.count
                return [self._event(IncidentPhase.UPDATE, now, incident)]
            return []
        counting_from = self.pending_since
        if self.cooldown_until is not None:
            if now < self.cooldown_until:
                return []
            counting_from = max(counting_from, self.cooldown_until)
        if _seconds(now - counting_from) < timing.min_duration_s:
            return []
        self.incident = _Open(
            incident_id=self.new_id(),
            started_at=self.pending_since,
            last_violating_at=now,
            evidence=evidence,
            max_count=evidence.count,
            confidence=evidence.confidence,
            track_id=evidence.track_id,
            zone_id=evidence.zone_id,
        )
        return [self._event(IncidentPhase.START, now, self.incident)]

    def _compliant(self, now: datetime) -> list[IncidentEvent]:
        self.pending_since = None
        incident = self.incident
        if incident is None:
            return []
        if incident.compliant_since is None:
            incident.compliant_since = now
        if _seconds(now - incident.compliant_since) >= self.timing.clear_s:
            return [self._end(now, incident.compliant_since, EndReason.CLEARED)]
        return []

    def _end(self, now: datetime, ended_at: datetime, reason: EndReason) -> IncidentEvent:
        incident = self.incident
        assert incident is not None
        self.incident = None
        self.pending_since = None
        self.cooldown_until = now + timedelta(seconds=self.timing.cooldown_s)
        return self._event(
            IncidentPhase.END,
            now,
            incident,
            ended_at=max(ended_at, incident.started_at),
            reason=reason,
        )

    def _event(
        self,
        phase: IncidentPhase,
        now: datetime,
        incident: _Open,
        *,
        ended_at: datetime | None = None,
        reason: EndReason | None = None,
    ) -> IncidentEvent:
        identity = self.identity
        evidence = incident.evidence
        return IncidentEvent(
            phase=phase,
            incident_id=incident.incident_id,
            rule_id=identity.rule_id,
            kind=identity.kind,
            severity=identity.severity,
            camera_id=identity.camera_id,
            at=now,
            started_at=incident.started_at,
            ended_at=ended_at,
            track_id=incident.track_id,
            count=evidence.count,
            max_count=incident.max_count,
            confidence=incident.confidence,
            boxes=evidence.boxes,
            zone_id=incident.zone_id,
            end_reason=reason,
        )


def _seconds(delta: timedelta) -> float:
    return delta.total_seconds()
