"""Rules: turn the detections of one camera frame into violations; time is the frames' captured_at.

LabelInZoneRule: "label L present in zone Z for at least T seconds" -> a violation, then a cooldown
per camera. Its timing, per camera:
- Present: at least one box labelled L with confidence >= min_confidence whose bottom-centre is in
  the zone (or anywhere, without a zone) on a frame the rule is given.
- Continuity: presence holds across frames without the label as long as consecutive present
  frames are at most `max_gap_s` apart (a missed detection or a dropped frame does not reset it).
  build_rules sets max_gap_s = max(1 s, 2 frame intervals at the slowest watched camera's
  detect_fps). A longer gap starts the presence anew.
- Firing: on the first present frame at which presence has lasted >= min_duration_s. The violation
  carries that frame's time and the matching boxes of that frame.
- Cooldown: for cooldown_s after firing, nothing fires for this rule and camera. After it, the
  presence must again last min_duration_s, counted from the later of its start and the cooldown's
  end: an object that never leaves fires at 0 + T, then every cooldown_s + T.
- A frame older than the previous one (the clock went back) starts that camera's state afresh.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from contracts import ViolationKind
from detector.detections import Detections
from edge.config import EdgeConfig, RuleConfig
from edge.violation import Box, Violation
from edge.zones import Zone
from streams.frame import Frame


class Rule(Protocol):
    @property
    def rule_id(self) -> str: ...

    def evaluate(self, frame: Frame, detections: Detections) -> list[Violation]:
        """Violations this frame completes; called with every sampled frame of every camera."""
        ...


@dataclass(slots=True)
class _Presence:
    since: datetime | None = None
    last_seen_at: datetime | None = None
    last_fired_at: datetime | None = None
    last_frame_at: datetime | None = None


class LabelInZoneRule:
    def __init__(
        self,
        *,
        rule_id: str,
        kind: ViolationKind,
        label: str,
        severity: int,
        zone: Zone | None = None,
        cameras: frozenset[str] | None = None,
        min_duration_s: float = 3.0,
        cooldown_s: float = 30.0,
        min_confidence: float = 0.5,
        max_gap_s: float = 1.0,
    ) -> None:
        self._rule_id = rule_id
        self.kind = kind
        self.label = label
        self.severity = severity
        self.zone = zone
        self.cameras = cameras  # None: every camera
        self._min_duration = timedelta(seconds=min_duration_s)
        self._cooldown = timedelta(seconds=cooldown_s)
        self._max_gap = timedelta(seconds=max_gap_s)
        self.min_confidence = min_confidence
        self._presence: dict[str, _Presence] = {}

    @property
    def rule_id(self) -> str:
        return self._rule_id

    def evaluate(self, frame: Frame, detections: Detections) -> list[Violation]:
        if self.cameras is not None and frame.camera_id not in self.cameras:
            return []
        now = frame.captured_at
        presence = self._presence.setdefault(frame.camera_id, _Presence())
        if presence.last_frame_at is not None and now < presence.last_frame_at:
            presence = self._presence[frame.camera_id] = _Presence()
        presence.last_frame_at = now

        matched = detections[self._matches(frame, detections)]
        if len(matched) == 0:
            return []
        if (
            presence.since is None
            or presence.last_seen_at is None
            or now - presence.last_seen_at > self._max_gap
        ):
            presence.since = now
        presence.last_seen_at = now

        counting_from = presence.since
        if presence.last_fired_at is not None:
            cooldown_end = presence.last_fired_at + self._cooldown
            if now < cooldown_end:
                return []
            counting_from = max(counting_from, cooldown_end)
        if now - counting_from < self._min_duration:
            return []
        presence.last_fired_at = now
        return [self._violation(frame, matched)]

    def _matches(self, frame: Frame, detections: Detections) -> NDArray[np.bool_]:
        class_ids = [
            index for index, name in enumerate(detections.class_names) if name == self.label
        ]
        mask: NDArray[np.bool_] = np.isin(detections.class_id, class_ids) & (
            detections.confidence >= self.min_confidence
        )
        if self.zone is not None and mask.any():
            mask &= self.zone.contains_boxes(
                detections.xyxy, width=frame.width, height=frame.height
            )
        return mask

    def _violation(self, frame: Frame, matched: Detections) -> Violation:
        scale = np.array([frame.width, frame.height, frame.width, frame.height], dtype=np.float64)
        normalized = np.clip(matched.xyxy.astype(np.float64) / scale, 0.0, 1.0)
        # corners in order whatever the detector gave: x1 <= x2, y1 <= y2
        normalized = np.concatenate(
            [
                np.minimum(normalized[:, :2], normalized[:, 2:]),
                np.maximum(normalized[:, :2], normalized[:, 2:]),
            ],
            axis=1,
        )
        boxes = tuple(
            Box(
                label=self.label,
                confidence=float(confidence),
                x1=float(x1),
                y1=float(y1),
                x2=float(x2),
                y2=float(y2),
            )
            for (x1, y1, x2, y2), confidence in zip(
                normalized.tolist(), matched.confidence.tolist(), strict=True
            )
        )
        return Violation(
            rule_id=self._rule_id,
            kind=self.kind,
            severity=self.severity,
            camera_id=frame.camera_id,
            occurred_at=frame.captured_at,
            confidence=max(box.confidence for box in boxes),
            boxes=boxes,
            zone_id=None if self.zone is None else self.zone.zone_id,
        )


def max_gap_for(rule: RuleConfig, config: EdgeConfig) -> float:
    """The continuity tolerance of a rule: max(1 s, 2 intervals at its slowest camera's fps)."""
    rates = [camera.detect_fps for camera in config.enabled_cameras if rule.watches(camera.id)]
    return max(1.0, 2.0 / min(rates)) if rates else 1.0


def build_rules(config: EdgeConfig) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for rule in config.rules:
        zone = None if rule.zone is None else Zone.from_points(rule.zone.id, rule.zone.polygon)
        rules.append(
            LabelInZoneRule(
                rule_id=rule.id,
                kind=rule.kind,
                label=rule.label,
                severity=rule.severity,
                zone=zone,
                cameras=None if rule.cameras is None else frozenset(rule.cameras),
                min_duration_s=rule.min_duration_s,
                cooldown_s=rule.cooldown_s,
                min_confidence=rule.min_confidence,
                max_gap_s=max_gap_for(rule, config),
            )
        )
    return tuple(rules)
