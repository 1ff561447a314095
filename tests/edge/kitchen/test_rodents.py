"""rodent: a camera-level incident with a count and a track, cats suppressed, motion support."""

import pytest

from contracts import ViolationKind
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.incidents import EndReason, IncidentPhase
from edge.kitchen.rules import RodentRule
from edge.kitchen.scene import MotionSupport, SceneTracker
from tests.edge.kitchen.timeline import Item, Recorder, counting_ids, seconds, settings, times


def rodent_engine(
    motion: MotionSupport | None = None, *, lost_s: float = 5.0, cooldown_s: float = 30.0
) -> Recorder:
    ids = counting_ids()
    rule_settings = settings(
        ViolationKind.RODENT,
        rule_id="rats",
        severity=1,
        min_duration_s=1.0,
        lost_s=lost_s,
        cooldown_s=cooldown_s,
    )
    rule = RodentRule(rule_settings, new_id=lambda: next(ids))
    return Recorder(KitchenRuleEngine("cam-1", rules=[rule], tracker=SceneTracker(motion=motion)))


def rat(x: float, y: float = 300.0, confidence: float = 0.8) -> Item:
    return ("rodent", (x, y, x + 24, y + 12), confidence)


def test_rodents_report_the_most_seen_at_once_and_a_track() -> None:
    recorder = rodent_engine()
    for index, t_s in enumerate(times(0.0, 2.0)):
        recorder.frame(t_s, rat(100 + 10 * index))
    for index, t_s in enumerate(times(2.2, 4.0)):  # two more come out
        recorder.frame(t_s, rat(120 + 10 * index), rat(400, 200), rat(500, 100))
    for index, t_s in enumerate(times(4.2, 6.0)):
        recorder.frame(t_s, rat(140 + 10 * index))
    for t_s in times(6.2, 12.0):
        recorder.frame(t_s)

    phases = [(e.phase, e.count, e.max_count) for e in recorder.events]
    assert phases == [
        (IncidentPhase.START, 1, 1),
        (IncidentPhase.UPDATE, 3, 3),
        (IncidentPhase.END, 1, 3),
    ]
    start, update, end = recorder.events
    assert start.kind is ViolationKind.RODENT
    assert start.severity == 1
    assert seconds(start.at) == 1.0
    assert start.track_id is not None
    assert update.track_id == end.track_id == start.track_id
    assert len(update.boxes) == 3
    assert (end.end_reason, seconds(end.ended_at)) == (EndReason.LOST, 6.0)


def test_a_cat_never_raises_a_rodent_alert() -> None:
    recorder = rodent_engine()
    for t_s in times(0.0, 10.0):
        # the model calls the cat's head a rodent too, now and then
        items = [("cat", (300, 200, 420, 280), 0.9)]
        if round(t_s * 5) % 3 == 0:
            items.append(("rodent", (300, 210, 340, 240), 0.7))
        recorder.frame(t_s, *items)
    for t_s in times(10.2, 20.0):
        # the cat box is missed, its "rodent" remains: the track is still the cat
        recorder.frame(t_s, ("rodent", (302, 212, 342, 242), 0.7))

    assert recorder.events == []


def test_a_real_rodent_away_from_the_cat_still_alerts() -> None:
    recorder = rodent_engine()
    for t_s in times(0.0, 3.0):
        recorder.frame(t_s, ("cat", (300, 200, 420, 280), 0.9), rat(40, 300))

    assert len(recorder.starts) == 1


def test_weak_rodents_neither_alert_nor_end_an_incident() -> None:
    recorder = rodent_engine(lost_s=5.0)
    for t_s in times(0.0, 20.0):
        recorder.frame(t_s, rat(100, confidence=0.3))
    assert recorder.events == []
    for t_s in times(20.2, 22.0):
        recorder.frame(t_s, rat(100))
    for t_s in times(22.2, 40.0):  # it stays, seen only weakly
        recorder.frame(t_s, rat(100, confidence=0.3))

    assert [e.phase for e in recorder.events] == [IncidentPhase.START]


def test_motion_near_a_weak_rodent_lifts_it_to_an_alert() -> None:
    def run(motion: MotionSupport | None) -> int:
        recorder = rodent_engine(motion)
        for index, t_s in enumerate(times(0.0, 3.0)):
            x = 100 + 8 * index
            recorder.frame(
                t_s,
                rat(x, confidence=0.4),
                motion=[[x - 4, 296, x + 30, 316], [0, 0, 640, 360]],  # the rat, and a large blob
            )
        return len(recorder.starts)

    assert run(None) == 0
    assert run(MotionSupport(min_confidence=0.25, boost=0.15, max_blob_fraction=0.01)) == 1


def test_motion_elsewhere_does_not_help() -> None:
    recorder = rodent_engine(MotionSupport())
    for t_s in times(0.0, 3.0):
        recorder.frame(t_s, rat(100, confidence=0.4), motion=[[500, 50, 520, 60]])

    assert recorder.events == []


def test_the_engine_asks_for_five_fps_while_a_rodent_is_followed() -> None:
    recorder = rodent_engine()
    engine = recorder.engine
    recorder.frame(0.0)
    assert engine.wants_detection_fps is None
    recorder.frame(0.2, rat(100, confidence=0.45))  # a candidate is enough
    assert engine.wants_detection_fps == pytest.approx(5.0)
    assert engine.has_active_tracks
    for t_s in times(0.4, 10.0):
        recorder.frame(t_s)
    assert engine.wants_detection_fps is None
    assert not engine.has_active_tracks


def test_cooldown_after_the_rodents_left() -> None:
    recorder = rodent_engine(lost_s=2.0, cooldown_s=30.0)
    for t_s in times(0.0, 2.0):
        recorder.frame(t_s, rat(100))
    for t_s in times(2.2, 5.0):
        recorder.frame(t_s)
    for t_s in times(5.2, 50.0):  # back again at 5.2 s
        recorder.frame(t_s, rat(100))

    assert [(e.phase.value, seconds(e.at)) for e in recorder.events] == [
        ("start", 1.0),
        ("end", 4.2),
        ("start", 35.2),  # the end was decided at 4.2 s; 30 s of cooldown and 1 s of persistence
    ]
