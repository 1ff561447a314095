"""LabelInZoneRule timing on synthetic timelines: persistence, gaps, cooldown, zones, cameras."""

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from contracts import ViolationKind
from detector.detections import Detections
from edge.config_file import load_config
from edge.rules import LabelInZoneRule, build_rules, max_gap_for
from edge.zones import Zone
from streams.frame import Frame
from tests.fixtures.edge import T0, detections_of, frame_at

RAT = detections_of(xyxy=[[100, 300, 160, 340]], labels=["rat"], confidence=[0.8])
NOTHING = detections_of()
WEAK_RAT = detections_of(xyxy=[[100, 300, 160, 340]], labels=["rat"], confidence=[0.3])
PERSON = detections_of(xyxy=[[100, 100, 200, 400]], labels=["person"])


def rule(**overrides: object) -> LabelInZoneRule:
    options: dict[str, object] = {
        "rule_id": "rat",
        "kind": ViolationKind.RODENT,
        "label": "rat",
        "severity": 1,
        "min_duration_s": 3.0,
        "cooldown_s": 30.0,
        "min_confidence": 0.5,
        "max_gap_s": 1.0,
    }
    options.update(overrides)
    return LabelInZoneRule(**options)  # type: ignore[arg-type]


def fire_times(
    subject: LabelInZoneRule,
    timeline: Iterable[tuple[float, Detections]],
    *,
    camera_id: str = "cam-1",
) -> list[float]:
    return [
        (violation.occurred_at - T0).total_seconds()
        for t_s, detections in timeline
        for violation in subject.evaluate(frame_at(t_s, camera_id=camera_id), detections)
    ]


def every(
    step_s: float, start_s: float, end_s: float, detections: Detections
) -> list[tuple[float, Detections]]:
    count = round((end_s - start_s) / step_s)
    return [(round(start_s + i * step_s, 3), detections) for i in range(count + 1)]


def test_fires_once_presence_has_lasted_min_duration() -> None:
    timeline = [(0.0, RAT), (1.0, RAT), (2.0, RAT), (2.9, RAT), (3.1, RAT)]

    assert fire_times(rule(), timeline) == [3.1]


def test_fires_exactly_at_min_duration() -> None:
    assert fire_times(rule(), every(0.2, 0.0, 3.0, RAT)) == [3.0]


def test_presence_shorter_than_min_duration_never_fires() -> None:
    assert fire_times(rule(), every(0.2, 0.0, 2.8, RAT) + every(0.2, 4.0, 10.0, NOTHING)) == []


def test_a_gap_within_tolerance_keeps_presence() -> None:
    # seen at 0.5, missed at 1.0 and 1.4, seen again at 1.5: a 1 s gap is within tolerance
    timeline = [(0.0, RAT), (0.5, RAT), (1.0, NOTHING), (1.4, NOTHING), (1.5, RAT)]
    timeline += [(2.0, RAT), (2.5, RAT), (3.0, RAT)]

    assert fire_times(rule(), timeline) == [3.0]


def test_a_gap_beyond_tolerance_restarts_presence() -> None:
    # last seen at 1.0, seen again at 2.1: a 1.1 s gap > 1 s, so presence starts anew at 2.1
    timeline = [(0.0, RAT), (1.0, RAT), (1.5, NOTHING), (2.0, NOTHING), (2.1, RAT), (3.0, RAT)]
    timeline += [(4.0, RAT), (5.0, RAT), (5.1, RAT)]

    assert fire_times(rule(), timeline) == [5.1]


def test_no_frames_at_all_for_longer_than_the_tolerance_restarts_presence() -> None:
    # a camera outage: nothing was seen between 1 s and 10 s, presence starts again at 10 s
    timeline = [(0.0, RAT), (1.0, RAT), (10.0, RAT), (11.0, RAT), (12.0, RAT), (13.0, RAT)]

    assert fire_times(rule(), timeline) == [13.0]


def test_cooldown_then_fires_again_after_min_duration() -> None:
    # present all the time at 5 fps: 0 + 3 s, then 3 + 30 s cooldown + 3 s
    assert fire_times(rule(), every(0.2, 0.0, 70.0, RAT)) == [3.0, 36.0, 69.0]


def test_no_violation_within_cooldown_even_after_a_new_presence() -> None:
    timeline = (
        every(0.5, 0.0, 3.0, RAT) + every(0.5, 3.5, 10.0, NOTHING) + every(0.5, 10.5, 20.0, RAT)
    )

    assert fire_times(rule(), timeline) == [3.0]


def test_after_cooldown_a_fresh_presence_needs_min_duration() -> None:
    timeline = (
        every(0.5, 0.0, 3.0, RAT) + every(0.5, 3.5, 40.0, NOTHING) + every(0.5, 40.5, 50.0, RAT)
    )

    assert fire_times(rule(), timeline) == [3.0, 43.5]


def test_detections_below_min_confidence_do_not_count() -> None:
    assert fire_times(rule(), every(0.2, 0.0, 10.0, WEAK_RAT)) == []
    assert fire_times(rule(min_confidence=0.25), every(0.2, 0.0, 10.0, WEAK_RAT)) == [3.0]


def test_other_labels_do_not_count() -> None:
    assert fire_times(rule(), every(0.2, 0.0, 10.0, PERSON)) == []


def test_zone_counts_only_boxes_standing_inside() -> None:
    # 640x480 frame; the rat's bottom-centre is at (130, 340) = (0.203, 0.708)
    inside = Zone.from_points("floor", [(0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (0.0, 1.0)])
    outside = Zone.from_points("shelf", [(0.5, 0.0), (1.0, 0.0), (1.0, 0.5), (0.5, 0.5)])

    assert fire_times(rule(zone=inside), every(0.2, 0.0, 5.0, RAT)) == [3.0]
    assert fire_times(rule(zone=outside), every(0.2, 0.0, 5.0, RAT)) == []


def test_cameras_are_timed_independently() -> None:
    subject = rule()
    fired: list[tuple[str, float]] = []
    for t_s, _ in every(0.2, 0.0, 5.0, RAT):
        for camera_id, start_s in (("cam-1", 0.0), ("cam-2", 1.0)):
            detections = RAT if t_s >= start_s else NOTHING
            fired.extend(
                (violation.camera_id, (violation.occurred_at - T0).total_seconds())
                for violation in subject.evaluate(frame_at(t_s, camera_id=camera_id), detections)
            )

    assert fired == [("cam-1", 3.0), ("cam-2", 4.0)]


def test_cooldown_is_per_camera() -> None:
    subject = rule()
    assert fire_times(subject, every(0.2, 0.0, 3.0, RAT), camera_id="cam-1") == [3.0]

    assert fire_times(subject, every(0.2, 3.2, 6.2, RAT), camera_id="cam-2") == [6.2]


def test_a_rule_watches_only_its_cameras() -> None:
    subject = rule(cameras=frozenset({"cam-2"}))

    assert fire_times(subject, every(0.2, 0.0, 5.0, RAT), camera_id="cam-1") == []
    assert fire_times(subject, every(0.2, 0.0, 5.0, RAT), camera_id="cam-2") == [3.0]


def test_zero_min_duration_fires_on_the_first_frame() -> None:
    assert fire_times(rule(min_duration_s=0.0), every(0.2, 0.0, 1.0, RAT)) == [0.0]


def test_a_frame_from_the_past_starts_the_camera_afresh() -> None:
    timeline = [(10.0, RAT), (11.0, RAT), (12.0, RAT), (0.0, RAT), (1.0, RAT), (2.0, RAT)]
    timeline += [(3.0, RAT)]

    assert fire_times(rule(), timeline) == [3.0]


def test_the_violation_describes_the_frame_that_completed_it() -> None:
    zone = Zone.from_points("floor", [(0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (0.0, 1.0)])
    subject = rule(zone=zone, min_duration_s=0.0)
    two = detections_of(
        xyxy=[[100, 300, 160, 340], [64, 240, 128, 480], [600, 10, 630, 40]],
        labels=["rat", "rat", "rat"],
        confidence=[0.6, 0.9, 0.95],
    )

    (violation,) = subject.evaluate(frame_at(0.0), two)

    assert violation.rule_id == "rat"
    assert violation.kind is ViolationKind.RODENT
    assert violation.severity == 1
    assert violation.zone_id == "floor"
    assert violation.occurred_at == T0
    assert violation.confidence == pytest.approx(0.9)  # the box outside the zone does not count
    assert [(box.label, round(box.x1, 3), round(box.y2, 3)) for box in violation.boxes] == [
        ("rat", 0.156, 0.708),
        ("rat", 0.1, 1.0),
    ]


def test_build_rules_uses_the_slowest_cameras_rate_for_the_gap(tmp_path: Path) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(
        "site: s\nedge: e\n"
        "cameras: [{id: fast, url: a.mp4, detect_fps: 10},"
        " {id: slow, url: b.mp4, detect_fps: 0.5}]\n"
        "model: {path: m.onnx}\nmqtt: {host: h}\noutbox: {path: o.db}\n"
        "rules:\n"
        "  - {id: all, kind: rodent, label: rat}\n"
        "  - {id: fast-only, kind: rodent, label: rat, cameras: [fast]}\n"
    )
    config = load_config(path, env={})

    assert [max_gap_for(rule, config) for rule in config.rules] == [4.0, 1.0]
    assert [built.rule_id for built in build_rules(config)] == ["all", "fast-only"]


Factory = Callable[..., Frame]


def test_factories_are_available_as_fixtures(
    make_frame: Factory, make_detections: Callable[..., Detections]
) -> None:
    subject = rule(min_duration_s=3.0)
    rat = make_detections(xyxy=[[120, 80, 160, 120]], labels=["rat"])
    fired = [subject.evaluate(make_frame(t), rat) for t in (0.0, 1.0, 2.0, 3.0)]

    assert [len(v) for v in fired] == [0, 0, 0, 1]
