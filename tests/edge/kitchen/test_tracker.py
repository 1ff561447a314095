"""IouTracker on synthetic boxes: stable ids through jitter and misses, two stages, fast targets."""

import itertools

import numpy as np
import pytest

from edge.kitchen.tracker import IouTracker, TrackerSettings, greedy_pairs
from tests.edge.kitchen.timeline import at, times


def box(x: float, y: float, w: float = 60.0, h: float = 200.0) -> list[float]:
    return [x, y, x + w, y + h]


def track(
    tracker: IouTracker, t_s: float, boxes: list[list[float]], conf: list[float] | None = None
) -> list[int]:
    confidence = np.asarray([0.9] * len(boxes) if conf is None else conf, dtype=np.float32)
    xyxy = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    ids: list[int] = tracker.update(xyxy, confidence, at(t_s)).tolist()
    return ids


def test_a_walking_person_with_jitter_keeps_one_id_for_a_minute() -> None:
    tracker = IouTracker()
    rng = np.random.default_rng(1)
    ids = set()
    for index, t_s in enumerate(times(0.0, 60.0)):
        walked = 4.0 * index % 800
        x = 50.0 + min(walked, 800 - walked) + rng.normal(0.0, 3.0)  # there and back again
        ids.update(track(tracker, t_s, [box(x, 80.0 + rng.normal(0.0, 3.0))]))

    assert ids == {1}


def test_a_brief_miss_keeps_the_id_and_a_long_one_does_not() -> None:
    tracker = IouTracker(TrackerSettings(max_age_s=2.0))
    first = track(tracker, 0.0, [box(100, 80)])
    track(tracker, 0.2, [])
    after_short_miss = track(tracker, 1.8, [box(104, 80)])
    track(tracker, 2.0, [])
    after_long_miss = track(tracker, 4.2, [box(104, 80)])

    assert first == after_short_miss == [1]
    assert after_long_miss == [2]


def test_two_people_side_by_side_keep_their_own_ids() -> None:
    tracker = IouTracker()
    seen: list[list[int]] = []
    for index, t_s in enumerate(times(0.0, 10.0)):
        # they walk towards each other and stop 10 px apart
        left, right = min(100.0 + 5 * index, 240.0), max(400.0 - 5 * index, 310.0)
        order = [box(left, 80), box(right, 80)]
        # the detector lists them in either order
        flipped = bool(index % 2)
        ids = track(tracker, t_s, order[::-1] if flipped else order)
        seen.append(ids[::-1] if flipped else ids)

    assert all(ids == [1, 2] for ids in seen)


def test_a_weak_box_extends_a_track_but_never_starts_one() -> None:
    tracker = IouTracker(TrackerSettings(high_confidence=0.5, low_confidence=0.1))
    assert track(tracker, 0.0, [box(100, 80)], [0.2]) == [-1]
    assert len(tracker) == 0
    assert track(tracker, 0.2, [box(100, 80)], [0.9]) == [1]
    assert track(tracker, 0.4, [box(102, 80)], [0.2]) == [1]  # half hidden: still the person
    assert track(tracker, 0.6, [box(300, 80)], [0.05]) == [-1]  # below low_confidence
    assert tracker.tracks[0].last_seen_at == at(0.4)


def test_a_fast_small_rodent_is_followed_by_its_velocity() -> None:
    # 20x10 px (diagonal 22 px, centre gate 2 diagonals = 45 px): a 40 px step, then 60 px steps
    # that only the predicted position brings within reach; boxes never overlap
    tracker = IouTracker(TrackerSettings(centre_gate=2.0, max_age_s=1.5))
    xs = [10, 50, 110, 170, 230, 290, 350, 410, 470]
    ids = [track(tracker, 0.2 * i, [[x, 300, x + 20, 310]])[0] for i, x in enumerate(xs)]

    assert ids == [1] * len(xs)


def test_without_velocity_the_same_run_breaks_the_track() -> None:
    tracker = IouTracker(TrackerSettings(centre_gate=2.0, max_age_s=1.5))
    ids = [track(tracker, 0.2 * i, [[x, 300, x + 20, 310]])[0] for i, x in enumerate([10, 70])]

    assert ids == [1, 2]  # a 60 px jump from a standing start is out of reach


def test_far_boxes_start_new_tracks() -> None:
    tracker = IouTracker()
    assert track(tracker, 0.0, [box(0, 0)]) == [1]
    assert track(tracker, 0.2, [box(500, 100)]) == [2]


def test_trackers_sharing_an_id_source_never_repeat_an_id() -> None:
    ids = itertools.count(1)
    people, rodents = IouTracker(ids=ids), IouTracker(ids=ids)
    assert track(people, 0.0, [box(0, 0)]) == [1]
    assert track(rodents, 0.0, [[300, 300, 320, 310]]) == [2]
    assert track(people, 0.2, [box(0, 0), box(400, 0)]) == [1, 3]


def test_tracks_expire_after_max_age_on_prune() -> None:
    tracker = IouTracker(TrackerSettings(max_age_s=2.0))
    track(tracker, 0.0, [box(0, 0)])
    tracker.prune(at(2.0))
    assert len(tracker) == 1
    tracker.prune(at(2.01))
    assert len(tracker) == 0


def test_greedy_pairs_take_the_best_score_first() -> None:
    score = np.array([[0.9, 0.8], [0.85, 0.1]])
    assert greedy_pairs(score, score > 0.05) == [(0, 0), (1, 1)]


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="2 boxes but 1 confidences"):
        IouTracker().update(np.zeros((2, 4), dtype=np.float32), np.ones(1, dtype=np.float32), at(0))
    with pytest.raises(ValueError, match="low_confidence"):
        TrackerSettings(low_confidence=0.6, high_confidence=0.5)
