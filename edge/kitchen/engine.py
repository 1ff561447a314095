"""KitchenRuleEngine: every kitchen rule and the health of one camera, fed frames, detections, time.

The worker calls, for one camera, from one thread (the engine holds no lock):
- observe_frame(frame_time, image) for every frame it reads (cheap: the image is measured for
  camera health only when a sample is due; pass image=None to only mark the arrival);
- update(frame_time, detections, width=, height=, motion=) for every frame it ran the detector on
  (detections in pixels of that width x height frame; motion: (M, 4) pixel boxes of moving blobs);
- on_source_state(at, state) when the source changes state, and tick(now) about once a second
  even without frames (outages, lost targets and schedule ends are decided by time alone).
Each returns the IncidentEvents it produced, in order. Its scheduler reads wants_detection_fps
(a rate the rules need now, e.g. 5 for a rodent being followed, or None) and has_active_tracks
(moving targets or pending/open incidents: keep detecting every sampled frame).

Times are aware datetimes from the arguments, never the wall clock. A time more than
CLOCK_TOLERANCE_S before the latest one means the clock went back: every open incident ends
(reason clock, at its last sighting) and all state starts afresh. Smaller steps back (a tick
racing a frame) count as the latest time.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from detector.detections import Detections
from edge.kitchen.health import CameraHealth, CameraHealthState
from edge.kitchen.incidents import EndReason, IncidentEvent
from edge.kitchen.rules import DetectionRule, RodentRule, UncoveredFoodRule
from edge.kitchen.scene import SceneTracker
from streams.frame import SourceState

logger = logging.getLogger(__name__)

CLOCK_TOLERANCE_S = 2.0


class KitchenRuleEngine:
    def __init__(
        self,
        camera_id: str,
        *,
        rules: Sequence[DetectionRule] = (),
        health: CameraHealth | None = None,
        tracker: SceneTracker | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.rules = tuple(rules)
        self.health = health
        self.tracker = tracker or SceneTracker()
        self._latest: datetime | None = None

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(rule.rule_id for rule in self.rules)

    @property
    def wants_detection_fps(self) -> float | None:
        """The detection rate the rules need now, or None for the camera's usual rate."""
        if self._latest is None:
            return None
        rates = [
            rule.detect_fps
            for rule in self.rules
            if isinstance(rule, RodentRule)
            and rule.is_active(self._latest)
            and (rule.busy or self.tracker.has_rodent_tracks)
        ]
        return max(rates) if rates else None

    @property
    def has_active_tracks(self) -> bool:
        """Moving targets are tracked or an incident is pending or open (food aside: it waits)."""
        return self.tracker.has_moving_tracks or any(
            rule.busy for rule in self.rules if not isinstance(rule, UncoveredFoodRule)
        )

    @property
    def open_incidents(self) -> int:
        return sum(rule.open_count for rule in self.rules)

    def health_state(self, now: datetime) -> CameraHealthState:
        if self.health is None:
            return CameraHealthState.ONLINE
        return self.health.state(self._clamp(now)[0])

    def update(
        self,
        frame_time: datetime,
        detections: Detections,
        *,
        width: int,
        height: int,
        motion: NDArray[np.floating] | None = None,
    ) -> list[IncidentEvent]:
        now, events = self._advance_clock(frame_time)
        scene = self.tracker.update(now, detections, width=width, height=height, motion_xyxy=motion)
        for rule in self.rules:
            events.extend(rule.evaluate(scene))
        return events

    def observe_frame(
        self, frame_time: datetime, image: NDArray[np.uint8] | None = None
    ) -> list[IncidentEvent]:
        now, events = self._advance_clock(frame_time)
        if self.health is not None:
            events.extend(self.health.observe_frame(now, image))
        return events

    def on_source_state(self, at: datetime, state: SourceState) -> list[IncidentEvent]:
        now, events = self._advance_clock(at)
        if self.health is not None:
            events.extend(self.health.on_source_state(now, state))
        return events

    def tick(self, now: datetime) -> list[IncidentEvent]:
        now, events = self._advance_clock(now)
        if self.health is not None:
            events.extend(self.health.tick(now))
        self.tracker.prune(now)
        for rule in self.rules:
            if rule.settings.active.is_active(now):
                events.extend(rule.advance(now))
            else:
                events.extend(rule.close(now, EndReason.SCHEDULE))
        return events

    def close(self, now: datetime) -> list[IncidentEvent]:
        """End every open incident (reason shutdown): the worker is stopping."""
        now, events = self._advance_clock(now)
        return events + self._end_all(now, EndReason.SHUTDOWN)

    def _clamp(self, at: datetime) -> tuple[datetime, bool]:
        """The time to use for `at`, and whether the clock went back beyond the tolerance."""
        if at.tzinfo is None:
            raise ValueError("times must be aware datetimes (frame.captured_at is UTC)")
        latest = self._latest
        if latest is None or at >= latest:
            return at, False
        if latest - at <= timedelta(seconds=CLOCK_TOLERANCE_S):
            return latest, False
        return at, True

    def _advance_clock(self, at: datetime) -> tuple[datetime, list[IncidentEvent]]:
        now, went_back = self._clamp(at)
        events: list[IncidentEvent] = []
        if went_back:
            latest = self._latest
            assert latest is not None
            logger.warning(
                "clock went back camera=%s by_s=%.1f: incidents end, state resets",
                self.camera_id,
                (latest - now).total_seconds(),
            )
            events = self._end_all(latest, EndReason.CLOCK)
            self.tracker.reset()
            for rule in self.rules:
                rule.reset()
            if self.health is not None:
                self.health.reset(now)
        self._latest = now
        return now, events

    def _end_all(self, now: datetime, reason: EndReason) -> list[IncidentEvent]:
        events = [event for rule in self.rules for event in rule.close(now, reason)]
        if self.health is not None:
            events.extend(self.health.close(now, reason))
        return events
