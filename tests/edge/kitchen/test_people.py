"""no_hat / no_mask through the tracked scene: one incident per person, its duration, its end."""

from zoneinfo import ZoneInfo

import numpy as np
import pytest

from contracts import ViolationKind
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.incidents import EndReason
from edge.kitchen.rules import NoHatRule, NoMaskRule, ZoneFilter
from edge.kitchen.schedule import ActiveWhen, Schedule, TimeWindow
from edge.zones import Zone
from tests.edge.kitchen.timeline import (
    Item,
    Recorder,
    counting_ids,
    seconds,
    settings,
    times,
    worker,
)


def hat_engine(
    *,
    lost_s: float = 10.0,
    cooldown_s: float = 30.0,
    clear_s: float = 3.0,
    zones: ZoneFilter | None = None,
    active: ActiveWhen | None = None,
) -> Recorder:
    ids = counting_ids()
    rule_settings = settings(
        ViolationKind.NO_HAT,
        lost_s=lost_s,
        cooldown_s=cooldown_s,
        clear_s=clear_s,
        zones=zones,
        active=active,
    )
    rule = NoHatRule(rule_settings, new_id=lambda: next(ids))
    return Recorder(KitchenRuleEngine("cam-1", rules=[rule]))


def test_a_worker_without_a_hat_for_five_minutes_is_one_incident() -> None:
    # 5 fps for 5 minutes with box jitter, weak heads, heads turned away, and brief misses
    recorder = hat_engine()
    rng = np.random.default_rng(7)
    for index, t_s in enumerate(times(0.0, 300.0)):
        phase = index % 100
        if phase in (50, 51, 52, 53, 54):  # 1 s unseen every 20 s
            recorder.frame(t_s)
            continue
        head = "head_bare"
        confidence = 0.8
        if phase in (20, 21, 22):
            confidence = 0.3  # uncertain
        x = 200.0 + 20.0 * np.sin(t_s / 10.0) + rng.normal(0.0, 2.0)
        items = worker(
            x, head=None if phase in (70, 71, 72, 73) else head, head_confidence=confidence
        )
        recorder.frame(t_s, *items)
    for t_s in times(300.2, 305.0):
        recorder.frame(t_s, *worker(200.0, head="head_covered"))

    [start] = recorder.starts
    [end] = recorder.ends
    assert (seconds(start.at), seconds(start.started_at)) == (3.0, 0.0)
    assert end.incident_id == start.incident_id
    assert end.track_id == start.track_id
    assert end.end_reason is EndReason.CLEARED
    assert seconds(end.ended_at) == pytest.approx(300.2)
    assert end.duration_s == pytest.approx(300.2)
    assert start.kind is ViolationKind.NO_HAT
    assert start.severity == 3
    assert [box.label for box in start.boxes] == ["head_bare", "person"]
    assert all(0.0 <= v <= 1.0 for box in start.boxes for v in (box.x1, box.y1, box.x2, box.y2))


def test_two_people_without_hats_are_two_incidents() -> None:
    recorder = hat_engine()
    for t_s in times(0.0, 10.0):
        recorder.frame(t_s, *worker(100.0), *worker(400.0), *worker(250.0, head="head_covered"))

    starts = recorder.starts
    assert len(starts) == 2
    assert len({event.track_id for event in starts}) == 2
    assert len({event.incident_id for event in starts}) == 2
    assert sorted(event.boxes[0].x1 for event in starts) == pytest.approx([115 / 640, 415 / 640])


def test_uncertain_heads_never_alert() -> None:
    recorder = hat_engine()
    for t_s in times(0.0, 60.0):
        recorder.frame(t_s, *worker(100.0, head_confidence=0.45))  # below min_confidence
        # a head too small to judge (5 px), however confident
    tiny: list[Item] = [
        ("person", (400, 300, 410, 340), 0.9),
        ("head_bare", (402, 300, 407, 305), 0.95),
    ]
    for t_s in times(60.2, 120.0):
        recorder.frame(t_s, *tiny)

    assert recorder.events == []


def test_a_head_turned_away_or_uncertain_does_not_end_the_incident() -> None:
    recorder = hat_engine()
    for t_s in times(0.0, 5.0):
        recorder.frame(t_s, *worker(100.0))
    for t_s in times(5.2, 60.0):  # the head is not seen, or only weakly, for 55 s
        recorder.frame(
            t_s, *worker(100.0, head=None if t_s < 30 else "head_covered", head_confidence=0.2)
        )

    assert len(recorder.starts) == 1
    assert recorder.ends == []
    assert recorder.engine.open_incidents == 1


def test_a_worker_who_leaves_ends_the_incident_after_the_grace_period() -> None:
    recorder = hat_engine(lost_s=10.0)
    for t_s in times(0.0, 5.0):
        recorder.frame(t_s, *worker(100.0))
    for t_s in times(5.2, 15.0):
        recorder.frame(t_s)
    assert recorder.ends == []
    recorder.tick(15.4)  # no detector frames any more: time alone ends it

    [end] = recorder.ends
    assert (end.end_reason, seconds(end.ended_at), seconds(end.at)) == (EndReason.LOST, 5.0, 15.4)
    assert not recorder.engine.has_active_tracks


def test_a_worker_hidden_longer_than_the_tracker_keeps_the_incident() -> None:
    # 3 s behind a shelf: the person track expires (2 s) and a new one starts, the incident stays
    recorder = hat_engine()
    for t_s in times(0.0, 5.0):
        recorder.frame(t_s, *worker(100.0))
    for t_s in times(5.2, 8.0):
        recorder.frame(t_s)
    for t_s in times(8.2, 20.0):
        recorder.frame(t_s, *worker(130.0))
    for t_s in times(20.2, 25.0):
        recorder.frame(t_s, *worker(130.0, head="head_covered"))

    [start] = recorder.starts
    [end] = recorder.ends
    assert end.incident_id == start.incident_id
    assert end.track_id == start.track_id
    assert seconds(end.ended_at) == pytest.approx(20.2)


def test_a_newcomer_near_a_briefly_missed_worker_does_not_take_the_incident() -> None:
    recorder = hat_engine()
    for t_s in times(0.0, 5.0):
        recorder.frame(t_s, *worker(100.0))
    recorder.frame(5.2, *worker(260.0))  # A missed on this frame, as B walks in nearby
    for t_s in times(5.4, 10.0):
        recorder.frame(t_s, *worker(100.0), *worker(260.0))

    first, second = recorder.starts
    assert first.track_id != second.track_id
    assert (seconds(first.started_at), seconds(second.started_at)) == (0.0, 5.2)
    assert recorder.ends == []


def test_cooldown_per_person_after_an_incident_ended() -> None:
    recorder = hat_engine(cooldown_s=30.0, clear_s=1.0)
    for t_s in times(0.0, 5.0):
        recorder.frame(t_s, *worker(100.0))
    for t_s in times(5.2, 6.4):
        recorder.frame(t_s, *worker(100.0, head="head_covered"))
    # the hat comes off again at 10 s; the end was decided at 6.2 s, so the cooldown runs to 36.2
    for t_s in times(6.6, 45.0):
        recorder.frame(t_s, *worker(100.0, head="head_covered" if t_s < 10 else "head_bare"))

    assert [(event.phase.value, seconds(event.at)) for event in recorder.events] == [
        ("start", 3.0),
        ("end", 6.2),
        ("start", 39.2),
    ]
    first, _, second = recorder.events
    assert second.track_id == first.track_id
    assert second.incident_id != first.incident_id
    assert seconds(second.started_at) == 10.0


def test_zones_include_and_exclude() -> None:
    left_half = Zone.from_points("left", [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])
    door = Zone.from_points("door", [(0.0, 0.0), (0.2, 0.0), (0.2, 1.0), (0.0, 1.0)])
    recorder = hat_engine(zones=ZoneFilter(include=(left_half,), exclude=(door,)))
    for t_s in times(0.0, 10.0):
        # at the door (excluded), in the left half, in the right half (not included)
        recorder.frame(t_s, *worker(10.0), *worker(200.0), *worker(450.0))

    [start] = recorder.starts
    assert start.zone_id == "left"
    assert start.boxes[1].x1 == pytest.approx(200 / 640)


def test_outside_its_schedule_the_rule_is_silent_and_open_incidents_end() -> None:
    # active 10:00-10:01 Shanghai time; T0 is 10:00:00
    window = Schedule(windows=(TimeWindow(600, 601),))
    active = ActiveWhen(timezone=ZoneInfo("Asia/Shanghai"), during=(window,))
    recorder = hat_engine(active=active)
    for t_s in times(0.0, 80.0):
        recorder.frame(t_s, *worker(100.0))

    assert [(e.phase.value, seconds(e.at), e.end_reason) for e in recorder.events] == [
        ("start", 3.0, None),
        ("end", 60.0, EndReason.SCHEDULE),
    ]


def test_a_lone_head_without_a_person_box_is_a_subject_too() -> None:
    recorder = hat_engine()
    for t_s in times(0.0, 5.0):
        recorder.frame(t_s, ("head_bare", (300, 100, 340, 140), 0.9))

    [start] = recorder.starts
    assert [box.label for box in start.boxes] == ["head_bare"]


def test_no_mask_follows_the_face_and_ignores_lone_heads() -> None:
    ids = counting_ids()
    rule = NoMaskRule(settings(ViolationKind.NO_MASK, rule_id="mask"), new_id=lambda: next(ids))
    recorder = Recorder(KitchenRuleEngine("cam-1", rules=[rule]))
    for t_s in times(0.0, 5.0):
        recorder.frame(
            t_s,
            *worker(100.0, head="head_covered", face="face_bare"),
            ("head_bare", (500, 100, 540, 140), 0.9),
        )
    for t_s in times(5.2, 20.0):  # turned away: no face
        recorder.frame(t_s, *worker(100.0, head="head_covered"))
    for t_s in times(20.2, 24.0):
        recorder.frame(t_s, *worker(100.0, head="head_covered", face="face_masked"))

    [start] = recorder.starts
    [end] = recorder.ends
    assert (start.kind, start.rule_id) == (ViolationKind.NO_MASK, "mask")
    assert [box.label for box in start.boxes] == ["face_bare", "person"]
    assert seconds(end.ended_at) == pytest.approx(20.2)


def test_a_head_box_reported_as_both_classes_counts_once() -> None:
    recorder = hat_engine()
    for t_s in times(0.0, 10.0):
        # the model says both on the same head; the more confident (covered) wins
        recorder.frame(
            t_s,
            *worker(100.0, head="head_covered", head_confidence=0.9),
            ("head_bare", (116, 62, 145, 94), 0.6),
        )

    assert recorder.events == []


def test_a_bare_head_box_nested_in_a_toque_box_is_the_same_head() -> None:
    recorder = hat_engine()
    for t_s in times(0.0, 10.0):
        # a chef's toque makes the head box twice as tall as the head; the model also boxes the
        # face part below the hat as a bare head (IoU 0.43 with the hat's box, all of it inside)
        recorder.frame(
            t_s,
            ("person", (100, 20, 160, 240), 0.9),
            ("head_covered", (115, 22, 145, 94), 0.9),
            ("head_bare", (116, 62, 145, 94), 0.6),
        )

    assert recorder.events == []


def test_a_confident_bare_head_inside_a_weak_covered_box_stays_bare() -> None:
    recorder = hat_engine()
    for t_s in times(0.0, 10.0):
        recorder.frame(
            t_s,
            ("person", (100, 20, 160, 240), 0.9),
            ("head_covered", (115, 22, 145, 94), 0.4),
            ("head_bare", (116, 62, 145, 94), 0.9),
        )

    [start] = recorder.starts
    assert [box.label for box in start.boxes] == ["head_bare", "person"]
