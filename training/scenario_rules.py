"""The edge's kitchen rules over a scenario video's detections: incidents as predicted events.

Each video gets a fresh edge.kitchen KitchenRuleEngine, built by the edge's own
build_kitchen_rules from a `kitchen` section that a canteen could write: the four detection rules
(no_hat, no_mask, rodent, uncovered_food) with the edge's defaults for everything (persistence:
no_hat and no_mask 3 s, rodent 1 s, uncovered_food 60 s; tracking per person, per container and
per camera for rodents; clear, lost and cooldown times; faces and heads under 8 px are uncertain),
except two things a scenario has no use for: the schedule is `always` (scenario time is midnight)
and the camera has no area or zones (every rule watches the whole frame). min_confidence is the
confidence under evaluation, so that one run reports several.

Every incident is one predicted event, from its start (the first violating observation) to its
end (cleared, lost, or the end of the video); training.metrics.match_events compares them with
the ground truth.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from detector.detections import Detections
from edge.kitchen.build import build_kitchen_rules
from edge.kitchen.config import KitchenRulesConfig
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.incidents import IncidentEvent, IncidentPhase
from scenes.timeline import VIOLATION_KINDS, ScenarioEvent

TICK_S = 1.0  # the edge's worker ticks its engines about once a second


@dataclass(frozen=True, slots=True)
class _Camera:
    id: str
    detect_fps: float
    stall_timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class TimedDetections:
    at: datetime  # aware
    detections: Detections
    width: int
    height: int


def scenario_rules_config(*, min_confidence: float) -> KitchenRulesConfig:
    """The `kitchen` section the scenario videos run under (see the module docstring)."""
    return KitchenRulesConfig.model_validate(
        {
            "rules": [
                {
                    "id": kind,
                    "kind": kind,
                    "schedule": "always",
                    "min_confidence": min_confidence,
                }
                for kind in VIOLATION_KINDS
            ]
        }
    )


def scenario_engine(
    camera_id: str, *, min_confidence: float, detect_fps: float, started_at: datetime
) -> KitchenRuleEngine:
    (engine,) = build_kitchen_rules(
        scenario_rules_config(min_confidence=min_confidence),
        [_Camera(camera_id, detect_fps)],
        started_at=started_at,
    ).values()
    return engine


def incidents_of(
    frames: Sequence[TimedDetections],
    *,
    camera_id: str,
    min_confidence: float,
    detect_fps: float,
    epoch: datetime,
) -> tuple[ScenarioEvent, ...]:
    """The incidents the edge's engine raises on these detections (in time order), as events in
    seconds after epoch; incidents still open after the last frame end there."""
    if not frames:
        return ()
    engine = scenario_engine(
        camera_id, min_confidence=min_confidence, detect_fps=detect_fps, started_at=frames[0].at
    )
    started: dict[uuid.UUID, IncidentEvent] = {}
    predicted: list[ScenarioEvent] = []

    def seconds(at: datetime) -> float:
        return (at - epoch).total_seconds()

    def take(events: Sequence[IncidentEvent]) -> None:
        for event in events:
            if event.phase is IncidentPhase.START:
                started[event.incident_id] = event
            elif event.phase is IncidentPhase.END and event.incident_id in started:
                del started[event.incident_id]
                end = event.ended_at or event.at
                predicted.append(
                    ScenarioEvent(
                        event.kind.value,
                        camera_id,
                        seconds(event.started_at),
                        seconds(end),
                    )
                )

    last_tick: datetime | None = None
    for item in frames:
        take(engine.update(item.at, item.detections, width=item.width, height=item.height))
        if last_tick is None or item.at - last_tick >= timedelta(seconds=TICK_S):
            take(engine.tick(item.at))
            last_tick = item.at
    take(engine.close(frames[-1].at))
    return tuple(sorted(predicted, key=lambda event: (event.start_s, event.kind)))
