"""The kitchen rules of one camera: no_hat, no_mask, rodent, uncovered_food on the tracked Scene.

Every rule has RuleSettings (already resolved for the camera's area: see area.py and build.py):
its identity (id, kind, severity, camera), Timing, min_confidence, an ActiveWhen schedule and a
ZoneFilter. Outside its schedule a rule ends its open incidents (reason schedule) and forgets what
was pending. A target whose anchor (bottom-centre of its box) is outside the rule's include zones
or inside an exclude zone is not observed at all on that frame.

- NoHatRule / NoMaskRule: one Condition per subject (a tracked person, or a lone head / face):
  head_bare / face_bare >= min_confidence is VIOLATING, head_covered / face_masked >=
  min_confidence is COMPLIANT; anything else - a weaker box, a part smaller than min_part_px, or a
  person whose head or face is not visible on this frame - is UNCERTAIN. When a person's track is
  lost (unseen for REACQUIRE_AFTER_S or more) and a new track appears where that open incident's
  target was last seen, the incident moves to the new track (same incident id and reported track
  id): a worker who walked behind a shelf is still one incident.
- UncoveredFoodRule: one Condition per container track; food_uncovered is VIOLATING, food_covered
  COMPLIANT. min_duration_s is how long it may stay open (default 60 s).
- RodentRule: one Condition per camera (the incident is "rodents on this camera"): VIOLATING while
  at least one confident rodent track is seen (count = confident rodent tracks on the frame; the
  incident's max_count is the most at once), UNCERTAIN while only weak ones are. A rodent track
  whose box was ever covered by a cat box (>= cat_cover of its area) is the cat, for good.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from edge.kitchen.boxes import FloatArray, centres, cover_matrix, diagonals, iou_matrix
from edge.kitchen.boxes import normalized_box as _normalized_box
from edge.kitchen.incidents import (
    Condition,
    EndReason,
    Evidence,
    IncidentEvent,
    Observation,
    RuleIdentity,
    Timing,
)
from edge.kitchen.scene import Part, Role, Scene, Sighting, SubjectSource
from edge.kitchen.schedule import ActiveWhen, always
from edge.violation import Box
from edge.zones import Zone, bottom_centres

IdFactory = Callable[[], uuid.UUID]
REACQUIRE_IOU = 0.1  # a new track this close to where a lost target was last seen continues it
REACQUIRE_AFTER_S = 1.0  # ... once that target has been missing this long (not a one-frame miss)


@dataclass(frozen=True, slots=True)
class ZoneFilter:
    include: tuple[Zone, ...] = ()  # empty: the whole frame
    exclude: tuple[Zone, ...] = ()

    def locate(
        self, xyxy: FloatArray, *, width: int, height: int
    ) -> tuple[NDArray[np.bool_], list[str | None]]:
        """Which boxes (N, 4 pixels) the rule watches, and the include zone each stands in."""
        count = xyxy.shape[0]
        zone_ids: list[str | None] = [None] * count
        if count == 0 or (not self.include and not self.exclude):
            return np.ones(count, dtype=bool), zone_ids
        anchors = bottom_centres(xyxy.astype(np.float32), width=width, height=height)
        watched: NDArray[np.bool_] = np.ones(count, dtype=bool)
        if self.include:
            inside = np.stack([zone.contains(anchors) for zone in self.include])  # (Z, N)
            watched = np.any(inside, axis=0)
            first = inside.argmax(axis=0)
            zone_ids = [
                self.include[int(first[i])].zone_id if watched[i] else None for i in range(count)
            ]
        for zone in self.exclude:
            watched &= ~zone.contains(anchors)
        return watched, zone_ids


@dataclass(frozen=True, slots=True)
class RuleSettings:
    identity: RuleIdentity
    timing: Timing
    min_confidence: float = 0.5
    active: ActiveWhen = field(default_factory=always)
    zones: ZoneFilter = field(default_factory=ZoneFilter)


def _box(xyxy: FloatArray, label: str, confidence: float, scene: Scene) -> Box:
    return _normalized_box(
        xyxy, label=label, confidence=confidence, width=scene.width, height=scene.height
    )


@dataclass(frozen=True, slots=True)
class _Target:
    track_id: int
    xyxy: FloatArray
    observation: Observation
    evidence: Evidence


class _PerTrackRule:
    """One Condition per tracked target, with re-acquisition of lost targets by position."""

    def __init__(self, settings: RuleSettings, new_id: IdFactory = uuid.uuid4) -> None:
        self.settings = settings
        self._new_id = new_id
        self._conditions: dict[int, Condition] = {}
        self._last_box: dict[int, FloatArray] = {}
        self._origin: dict[int, int] = {}  # current track id -> the track id reported

    @property
    def rule_id(self) -> str:
        return self.settings.identity.rule_id

    @property
    def busy(self) -> bool:
        """Something is pending or open: the rule needs frames at the detect rate."""
        return any(c.is_open or c.is_pending for c in self._conditions.values())

    @property
    def open_count(self) -> int:
        return sum(1 for condition in self._conditions.values() if condition.is_open)

    def _targets(self, scene: Scene) -> list[_Target]:
        raise NotImplementedError

    def evaluate(self, scene: Scene) -> list[IncidentEvent]:
        now = scene.at
        if not self.settings.active.is_active(now):
            return self.close(now, EndReason.SCHEDULE)
        targets = self._targets(scene)
        events: list[IncidentEvent] = []
        if targets:
            watched, zone_ids = self.settings.zones.locate(
                np.stack([target.xyxy for target in targets]),
                width=scene.width,
                height=scene.height,
            )
            seen: set[int] = set()
            for target, inside, zone_id in zip(targets, watched.tolist(), zone_ids, strict=True):
                if not inside:
                    continue
                track_id = target.track_id
                condition = self._conditions.get(track_id)
                if condition is None:
                    condition = self._reacquire(target, seen, now) or Condition(
                        self.settings.identity, self.settings.timing, self._new_id
                    )
                    self._conditions[track_id] = condition
                seen.add(track_id)
                self._last_box[track_id] = target.xyxy
                evidence = Evidence(
                    confidence=target.evidence.confidence,
                    boxes=target.evidence.boxes,
                    track_id=self._origin.setdefault(track_id, track_id),
                    zone_id=zone_id,
                )
                events.extend(condition.observe(now, target.observation, evidence))
        events.extend(self.advance(now))
        return events

    def advance(self, now: datetime) -> list[IncidentEvent]:
        events: list[IncidentEvent] = []
        for track_id, condition in list(self._conditions.items()):
            events.extend(condition.advance(now))
            lapsed = condition.last_seen_at is None or (
                (now - condition.last_seen_at).total_seconds() > condition.timing.lost_s
            )
            if condition.is_idle(now) or (not condition.is_open and lapsed):
                self._forget(track_id)
        return events

    def close(self, now: datetime, reason: EndReason) -> list[IncidentEvent]:
        events = [e for condition in self._conditions.values() for e in condition.end(now, reason)]
        for track_id in list(self._conditions):
            if self._conditions[track_id].is_idle(now):
                self._forget(track_id)
        return events

    def reset(self) -> None:
        self._conditions.clear()
        self._last_box.clear()
        self._origin.clear()

    def _forget(self, track_id: int) -> None:
        self._conditions.pop(track_id, None)
        self._last_box.pop(track_id, None)
        self._origin.pop(track_id, None)

    def _reacquire(self, target: _Target, seen: set[int], now: datetime) -> Condition | None:
        if target.observation is Observation.COMPLIANT:
            return None
        lost = [
            track_id
            for track_id, condition in self._conditions.items()
            if condition.is_open
            and track_id not in seen
            and track_id in self._last_box
            and condition.last_seen_at is not None
            and (now - condition.last_seen_at).total_seconds() >= REACQUIRE_AFTER_S
        ]
        if not lost:
            return None
        previous = np.stack([self._last_box[track_id] for track_id in lost])
        box = target.xyxy[np.newaxis, :]
        iou = iou_matrix(box, previous)[0]
        distance = np.linalg.norm(centres(previous) - centres(box)[0], axis=1)
        near = (iou >= REACQUIRE_IOU) | (distance <= diagonals(previous))
        if not near.any():
            return None
        best = lost[int(np.argmax(np.where(near, iou - 1e-6 * distance, -np.inf)))]
        condition = self._conditions.pop(best)
        self._origin[target.track_id] = self._origin.pop(best, best)
        self._last_box.pop(best, None)
        return condition


class AttributeRule(_PerTrackRule):
    """A subject's head or face must show the compliant attribute (hat, mask)."""

    part_name = "head"
    violating = Role.HEAD_BARE
    compliant = Role.HEAD_COVERED
    lone_source = SubjectSource.HEAD

    def __init__(
        self, settings: RuleSettings, *, min_part_px: float = 8.0, new_id: IdFactory = uuid.uuid4
    ) -> None:
        super().__init__(settings, new_id)
        self.min_part_px = min_part_px

    def _part(self, part: Part | None) -> tuple[Observation, Part | None]:
        if part is None:
            return Observation.UNCERTAIN, None
        sides = part.xyxy[2:] - part.xyxy[:2]
        if float(sides.max()) < self.min_part_px or part.confidence < self.settings.min_confidence:
            return Observation.UNCERTAIN, part
        if part.role is self.violating:
            return Observation.VIOLATING, part
        if part.role is self.compliant:
            return Observation.COMPLIANT, part
        return Observation.UNCERTAIN, part

    def _targets(self, scene: Scene) -> list[_Target]:
        targets: list[_Target] = []
        for subject in scene.subjects:
            if subject.source not in (SubjectSource.PERSON, self.lone_source):
                continue
            part = subject.head if self.part_name == "head" else subject.face
            observation, seen_part = self._part(part)
            boxes: list[Box] = []
            confidence = 0.0
            if seen_part is not None:
                confidence = seen_part.confidence
                boxes.append(_box(seen_part.xyxy, seen_part.label, confidence, scene))
            if subject.source is SubjectSource.PERSON:
                boxes.append(_box(subject.xyxy, SubjectSource.PERSON.value, confidence, scene))
            targets.append(
                _Target(
                    track_id=subject.track_id,
                    xyxy=subject.xyxy,
                    observation=observation,
                    evidence=Evidence(confidence=confidence, boxes=tuple(boxes)),
                )
            )
        return targets


class NoHatRule(AttributeRule):
    part_name = "head"
    violating = Role.HEAD_BARE
    compliant = Role.HEAD_COVERED
    lone_source = SubjectSource.HEAD


class NoMaskRule(AttributeRule):
    part_name = "face"
    violating = Role.FACE_BARE
    compliant = Role.FACE_MASKED
    lone_source = SubjectSource.FACE


class UncoveredFoodRule(_PerTrackRule):
    def _targets(self, scene: Scene) -> list[_Target]:
        targets: list[_Target] = []
        for sighting in scene.food:
            observation = Observation.UNCERTAIN
            if sighting.confidence >= self.settings.min_confidence:
                observation = (
                    Observation.VIOLATING
                    if sighting.role is Role.FOOD_UNCOVERED
                    else Observation.COMPLIANT
                )
            box = _box(sighting.xyxy, sighting.label, sighting.confidence, scene)
            targets.append(
                _Target(
                    track_id=sighting.track_id,
                    xyxy=sighting.xyxy,
                    observation=observation,
                    evidence=Evidence(confidence=sighting.confidence, boxes=(box,)),
                )
            )
        return targets


class RodentRule:
    def __init__(
        self,
        settings: RuleSettings,
        *,
        cat_cover: float = 0.3,
        detect_fps: float = 5.0,
        new_id: IdFactory = uuid.uuid4,
    ) -> None:
        self.settings = settings
        self.cat_cover = cat_cover
        self.detect_fps = detect_fps
        self._condition = Condition(settings.identity, settings.timing, new_id)
        self._cats: dict[int, datetime] = {}  # rodent track ids that are the cat, last seen at

    @property
    def rule_id(self) -> str:
        return self.settings.identity.rule_id

    @property
    def busy(self) -> bool:
        return self._condition.is_open or self._condition.is_pending

    @property
    def open_count(self) -> int:
        return int(self._condition.is_open)

    def is_active(self, now: datetime) -> bool:
        return self.settings.active.is_active(now)

    def evaluate(self, scene: Scene) -> list[IncidentEvent]:
        now = scene.at
        if not self.settings.active.is_active(now):
            return self.close(now, EndReason.SCHEDULE)
        rodents = self._not_cats(scene)
        if rodents:
            watched, zone_ids = self.settings.zones.locate(
                np.stack([s.xyxy for s in rodents]), width=scene.width, height=scene.height
            )
            located = [
                (sighting, zone_id)
                for sighting, inside, zone_id in zip(
                    rodents, watched.tolist(), zone_ids, strict=True
                )
                if inside
            ]
        else:
            located = []
        confident = [
            (s, zone_id) for s, zone_id in located if s.confidence >= self.settings.min_confidence
        ]
        if confident:
            confident.sort(key=lambda item: item[0].confidence, reverse=True)
            lead, zone_id = confident[0]
            evidence = Evidence(
                confidence=lead.confidence,
                boxes=tuple(_box(s.xyxy, s.label, s.confidence, scene) for s, _ in confident),
                count=len(confident),
                track_id=lead.track_id,
                zone_id=zone_id,
            )
            return self._condition.observe(now, Observation.VIOLATING, evidence)
        if located:
            return self._condition.observe(now, Observation.UNCERTAIN)
        return self._condition.advance(now)

    def advance(self, now: datetime) -> list[IncidentEvent]:
        return self._condition.advance(now)

    def close(self, now: datetime, reason: EndReason) -> list[IncidentEvent]:
        return self._condition.end(now, reason)

    def reset(self) -> None:
        self._condition = Condition(
            self.settings.identity, self.settings.timing, self._condition.new_id
        )
        self._cats.clear()

    def _not_cats(self, scene: Scene) -> list[Sighting]:
        now = scene.at
        if scene.rodents and scene.cats.shape[0]:
            cover = cover_matrix(np.stack([s.xyxy for s in scene.rodents]), scene.cats)
            for sighting, covered in zip(scene.rodents, cover.max(axis=1).tolist(), strict=True):
                if covered >= self.cat_cover:
                    self._cats[sighting.track_id] = now
        for track_id, seen_at in list(self._cats.items()):
            if (now - seen_at).total_seconds() > 60.0:
                del self._cats[track_id]
        rodents = []
        for sighting in scene.rodents:
            if sighting.track_id in self._cats:
                self._cats[sighting.track_id] = now
            else:
                rodents.append(sighting)
        return rodents


DetectionRule = NoHatRule | NoMaskRule | UncoveredFoodRule | RodentRule
