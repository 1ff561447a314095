"""KitchenRuleEngine: the scheduler's flags, health through the engine, shutdown, clock jumps."""

import numpy as np

from contracts import ViolationKind
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.health import CameraHealth, CameraHealthState
from edge.kitchen.incidents import EndReason, IncidentPhase
from edge.kitchen.rules import DetectionRule, NoHatRule, RodentRule, UncoveredFoodRule
from streams.frame import SourceState
from tests.edge.kitchen.timeline import Recorder, at, seconds, settings, times, worker


def full_engine() -> Recorder:
    rules: list[DetectionRule] = [
        NoHatRule(settings(ViolationKind.NO_HAT, rule_id="hat")),
        RodentRule(settings(ViolationKind.RODENT, rule_id="rats", min_duration_s=1.0)),
        UncoveredFoodRule(
            settings(ViolationKind.UNCOVERED_FOOD, rule_id="food", min_duration_s=60.0)
        ),
    ]
    health = CameraHealth(
        started_at=at(0.0),
        stall_timeout_s=5.0,
        offline=settings(
            ViolationKind.CAMERA_OFFLINE, rule_id="offline", min_duration_s=30.0, max_gap_s=3.0
        ),
    )
    return Recorder(KitchenRuleEngine("cam-1", rules=rules, health=health))


def test_a_quiet_camera_needs_no_extra_detection() -> None:
    recorder = full_engine()
    for t_s in times(0.0, 5.0):
        recorder.frame(t_s)
    assert not recorder.engine.has_active_tracks
    assert recorder.engine.wants_detection_fps is None
    assert recorder.events == []


def test_a_person_keeps_the_detector_running_until_the_track_is_gone() -> None:
    recorder = full_engine()
    recorder.frame(0.0, *worker(100.0, head="head_covered"))
    assert recorder.engine.has_active_tracks
    assert recorder.engine.wants_detection_fps is None  # people need the usual rate only
    for t_s in times(0.2, 3.0):
        recorder.frame(t_s)
    assert not recorder.engine.has_active_tracks


def test_each_rule_reports_its_own_incident() -> None:
    recorder = full_engine()
    for t_s in times(0.0, 5.0):
        recorder.frame(t_s, *worker(100.0), ("rodent", (400, 300, 424, 312), 0.8))

    assert sorted((e.rule_id, seconds(e.at)) for e in recorder.starts) == [
        ("hat", 3.0),
        ("rats", 1.0),
    ]
    assert recorder.engine.open_incidents == 2


def test_closing_ends_every_open_incident() -> None:
    recorder = full_engine()
    for t_s in times(0.0, 5.0):
        recorder.frame(t_s, *worker(100.0))
    ends = recorder.engine.close(at(6.0))

    assert [(e.phase, e.end_reason, seconds(e.ended_at)) for e in ends] == [
        (IncidentPhase.END, EndReason.SHUTDOWN, 5.0)
    ]
    assert recorder.engine.open_incidents == 0


def test_a_clock_that_jumps_back_ends_incidents_and_starts_afresh() -> None:
    recorder = full_engine()
    for t_s in times(100.0, 105.0):
        recorder.frame(t_s, *worker(100.0))
    recorder.frame(104.5, *worker(100.0))  # a small step back is just jitter
    assert recorder.ends == []
    jumped = recorder.frame(50.0, *worker(100.0))

    [end] = jumped
    assert (end.end_reason, seconds(end.ended_at), seconds(end.at)) == (
        EndReason.CLOCK,
        105.0,
        105.0,
    )
    for t_s in times(50.2, 54.0):
        recorder.frame(t_s, *worker(100.0))
    assert [seconds(e.at) for e in recorder.starts] == [103.0, 53.0]


def test_health_through_the_engine_state_and_incidents() -> None:
    recorder = full_engine()
    engine = recorder.engine
    image = np.zeros((36, 64, 3), dtype=np.uint8)
    assert engine.health_state(at(0.0)) is CameraHealthState.STARTING
    for t_s in times(0.0, 10.0):
        recorder.events += engine.observe_frame(at(t_s), image)
    assert engine.health_state(at(10.0)) is CameraHealthState.ONLINE
    recorder.events += engine.on_source_state(at(12.0), SourceState.OFFLINE)
    assert engine.health_state(at(12.0)) is CameraHealthState.OFFLINE
    for t_s in range(13, 45):
        recorder.tick(float(t_s))

    [start] = recorder.starts
    assert (start.kind, seconds(start.at), seconds(start.started_at)) == (
        ViolationKind.CAMERA_OFFLINE,
        40.0,
        10.0,
    )
    assert start.track_id is None


def test_an_engine_without_health_reports_online() -> None:
    engine = KitchenRuleEngine("cam-1")
    assert engine.health_state(at(0.0)) is CameraHealthState.ONLINE
    assert engine.observe_frame(at(0.0)) == []
    assert engine.tick(at(1.0)) == []
