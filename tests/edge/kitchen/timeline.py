"""Synthetic timelines for the kitchen rules: detections from literals, times from seconds."""

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from contracts import ViolationKind
from detector.detections import Detections
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.incidents import IncidentEvent, IncidentPhase, RuleIdentity, Timing
from edge.kitchen.rules import RuleSettings, ZoneFilter
from edge.kitchen.schedule import ActiveWhen, always

KITCHEN_CLASSES = (
    "person",
    "head_covered",
    "head_bare",
    "face_masked",
    "face_bare",
    "rodent",
    "cat",
    "food_covered",
    "food_uncovered",
)
WIDTH, HEIGHT = 640, 360
# Monday 2026-03-02 10:00 in Asia/Shanghai: inside the built-in service and plating schedules
T0 = datetime(2026, 3, 2, 2, 0, 0, tzinfo=UTC)
FPS = 5.0

Item = tuple[str, Sequence[float], float]  # label, xyxy pixels, confidence


def at(t_s: float) -> datetime:
    return T0 + timedelta(milliseconds=round(t_s * 1000))


def seconds(moment: datetime | None) -> float:
    assert moment is not None
    return (moment - T0).total_seconds()


def dets(*items: Item) -> Detections:
    count = len(items)
    return Detections(
        xyxy=np.asarray([item[1] for item in items], dtype=np.float32).reshape(count, 4),
        confidence=np.asarray([item[2] for item in items], dtype=np.float32).reshape(count),
        class_id=np.asarray(
            [KITCHEN_CLASSES.index(item[0]) for item in items], dtype=np.int64
        ).reshape(count),
        class_names=KITCHEN_CLASSES,
    )


def worker(
    x: float,
    *,
    head: str | None = "head_bare",
    head_confidence: float = 0.8,
    face: str | None = None,
    face_confidence: float = 0.8,
    y: float = 60.0,
    person_confidence: float = 0.85,
) -> list[Item]:
    """A standing person 60x220 px with its top-left at (x, y), a head and maybe a face."""
    items: list[Item] = [("person", (x, y, x + 60, y + 220), person_confidence)]
    if head is not None:
        items.append((head, (x + 15, y + 2, x + 45, y + 34), head_confidence))
    if face is not None:
        items.append((face, (x + 18, y + 10, x + 42, y + 34), face_confidence))
    return items


def times(start_s: float, end_s: float, fps: float = FPS) -> list[float]:
    """Frame times from start_s up to end_s inclusive at `fps`."""
    count = round((end_s - start_s) * fps)
    return [round(start_s + index / fps, 3) for index in range(count + 1)]


def settings(
    kind: ViolationKind,
    *,
    rule_id: str = "rule-1",
    camera_id: str = "cam-1",
    severity: int = 3,
    min_confidence: float = 0.5,
    active: ActiveWhen | None = None,
    zones: ZoneFilter | None = None,
    min_duration_s: float = 3.0,
    cooldown_s: float = 30.0,
    max_gap_s: float = 1.0,
    clear_s: float = 3.0,
    lost_s: float = 10.0,
) -> RuleSettings:
    return RuleSettings(
        identity=RuleIdentity(rule_id, kind, severity, camera_id),
        timing=Timing(
            min_duration_s=min_duration_s,
            cooldown_s=cooldown_s,
            max_gap_s=max_gap_s,
            clear_s=clear_s,
            lost_s=lost_s,
        ),
        min_confidence=min_confidence,
        active=active or always(),
        zones=zones or ZoneFilter(),
    )


@dataclass
class Recorder:
    """Drives an engine through a timeline and keeps every event it emits."""

    engine: KitchenRuleEngine
    events: list[IncidentEvent] = field(default_factory=list)

    def frame(
        self, t_s: float, *items: Item, motion: Sequence[Sequence[float]] | None = None
    ) -> list[IncidentEvent]:
        boxes = None if motion is None else np.asarray(motion, dtype=np.float32).reshape(-1, 4)
        new = self.engine.update(at(t_s), dets(*items), width=WIDTH, height=HEIGHT, motion=boxes)
        self.events.extend(new)
        return new

    def play(self, timeline: Iterable[tuple[float, Sequence[Item]]]) -> list[IncidentEvent]:
        new: list[IncidentEvent] = []
        for t_s, items in timeline:
            new.extend(self.frame(t_s, *items))
        return new

    def tick(self, t_s: float) -> list[IncidentEvent]:
        new = self.engine.tick(at(t_s))
        self.events.extend(new)
        return new

    def phases(self, phase: IncidentPhase) -> list[IncidentEvent]:
        return [event for event in self.events if event.phase is phase]

    @property
    def starts(self) -> list[IncidentEvent]:
        return self.phases(IncidentPhase.START)

    @property
    def ends(self) -> list[IncidentEvent]:
        return self.phases(IncidentPhase.END)


def counting_ids() -> Iterator[uuid.UUID]:
    """Predictable incident ids: 00000000-0000-0000-0000-000000000001, ...2, ..."""
    number = 0
    while True:
        number += 1
        yield uuid.UUID(int=number)
