"""uncovered_food: a container left open longer than its time; covering or removing it ends it."""

import pytest

from contracts import ViolationKind
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.incidents import EndReason
from edge.kitchen.rules import UncoveredFoodRule, ZoneFilter
from edge.zones import Zone
from tests.edge.kitchen.timeline import Item, Recorder, counting_ids, seconds, settings, times

TRAY = (200.0, 250.0, 300.0, 300.0)
PREP_TABLE = Zone.from_points("prep", [(0.25, 0.6), (0.55, 0.6), (0.55, 0.95), (0.25, 0.95)])


def food_engine(*, lost_s: float = 10.0, zones: ZoneFilter | None = None) -> Recorder:
    ids = counting_ids()
    rule_settings = settings(
        ViolationKind.UNCOVERED_FOOD,
        rule_id="food",
        severity=2,
        min_duration_s=60.0,
        max_gap_s=10.0,
        clear_s=2.0,
        lost_s=lost_s,
        zones=zones,
    )
    return Recorder(
        KitchenRuleEngine(
            "cam-1", rules=[UncoveredFoodRule(rule_settings, new_id=lambda: next(ids))]
        )
    )


def tray(label: str = "food_uncovered", confidence: float = 0.8, dx: float = 0.0) -> Item:
    x1, y1, x2, y2 = TRAY
    return (label, (x1 + dx, y1, x2 + dx, y2), confidence)


def test_food_open_longer_than_its_time_alerts_and_a_lid_ends_it() -> None:
    recorder = food_engine()
    # sampled at 1 fps, as a quiet kitchen's keep-alive would; people hide it now and then
    for t_s in range(0, 90):
        recorder.frame(float(t_s), *([] if t_s % 15 == 7 else [tray(dx=(t_s % 3) - 1.0)]))
    for t_s in range(90, 95):
        recorder.frame(float(t_s), tray("food_covered"))

    [start] = recorder.starts
    [end] = recorder.ends
    assert (seconds(start.at), start.severity, start.kind) == (
        60.0,
        2,
        ViolationKind.UNCOVERED_FOOD,
    )
    assert [box.label for box in start.boxes] == ["food_uncovered"]
    assert (end.incident_id, end.end_reason) == (start.incident_id, EndReason.CLEARED)
    assert seconds(end.ended_at) == 90.0
    assert end.duration_s == pytest.approx(90.0)


def test_covered_before_its_time_never_alerts() -> None:
    recorder = food_engine()
    for t_s in times(0.0, 50.0, fps=1.0):
        recorder.frame(t_s, tray())
    for t_s in times(51.0, 200.0, fps=1.0):
        recorder.frame(t_s, tray("food_covered"))

    assert recorder.events == []


def test_removing_the_container_ends_the_incident() -> None:
    recorder = food_engine(lost_s=10.0)
    for t_s in times(0.0, 70.0, fps=1.0):
        recorder.frame(t_s, tray())
    for t_s in times(71.0, 85.0, fps=1.0):
        recorder.frame(t_s)

    [end] = recorder.ends
    assert (end.end_reason, seconds(end.ended_at), seconds(end.at)) == (EndReason.LOST, 70.0, 81.0)


def test_only_food_in_the_preparation_zone_counts() -> None:
    recorder = food_engine(zones=ZoneFilter(include=(PREP_TABLE,)))
    elsewhere: Item = ("food_uncovered", (500.0, 100.0, 560.0, 130.0), 0.9)
    for t_s in times(0.0, 70.0, fps=1.0):
        recorder.frame(t_s, tray(), elsewhere)

    [start] = recorder.starts
    assert start.zone_id == "prep"
    assert start.boxes[0].x1 == pytest.approx(200 / 640)


def test_food_does_not_keep_the_detector_at_full_rate() -> None:
    recorder = food_engine()
    for t_s in times(0.0, 30.0, fps=1.0):
        recorder.frame(t_s, tray())

    assert not recorder.engine.has_active_tracks
    assert recorder.engine.wants_detection_fps is None


def test_a_weak_container_is_uncertain() -> None:
    recorder = food_engine()
    for t_s in times(0.0, 120.0, fps=1.0):
        recorder.frame(t_s, tray(confidence=0.45))  # tracked, below min_confidence

    assert recorder.events == []
