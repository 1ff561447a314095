"""Metrics on hand-made cases with known answers."""

import pytest

from scenes.timeline import ScenarioEvent
from training.metrics import (
    GroundTruth,
    Prediction,
    average_precision,
    evaluate_detections,
    iou,
    match_events,
    recall_by_size,
)

A = (0.0, 0.0, 20.0, 20.0)
B = (50.0, 50.0, 80.0, 90.0)
C = (100.0, 0.0, 130.0, 30.0)


def test_iou_of_known_boxes() -> None:
    assert iou(A, A) == 1.0
    assert iou(A, B) == 0.0
    assert iou((0.0, 0.0, 10.0, 10.0), (5.0, 0.0, 15.0, 10.0)) == pytest.approx(50 / 150)


def test_perfect_predictions() -> None:
    truths = [GroundTruth("rodent", A), GroundTruth("rodent", B)]
    preds = [Prediction("rodent", 0.9, A), Prediction("rodent", 0.8, B)]
    m = evaluate_detections([(truths, preds)], labels=["rodent"])["rodent"]
    assert (m.precision, m.recall, m.ap50) == (1.0, 1.0, 1.0)
    assert (m.true_positives, m.false_positives, m.false_negatives) == (2, 0, 0)


def test_one_false_positive_ranked_last() -> None:
    truths = [GroundTruth("cat", A), GroundTruth("cat", B)]
    preds = [Prediction("cat", 0.9, A), Prediction("cat", 0.8, B), Prediction("cat", 0.7, C)]
    m = evaluate_detections([(truths, preds)], labels=["cat"])["cat"]
    assert m.precision == pytest.approx(2 / 3)
    assert m.recall == 1.0
    assert m.ap50 == pytest.approx(1.0)  # the false positive comes after full recall
    assert m.false_positives == 1


def test_one_false_negative() -> None:
    truths = [GroundTruth("cat", A), GroundTruth("cat", B)]
    m = evaluate_detections([(truths, [Prediction("cat", 0.9, A)])], labels=["cat"])["cat"]
    assert (m.precision, m.recall, m.ap50) == (1.0, 0.5, 0.5)
    assert m.false_negatives == 1


def test_ap_of_a_known_ranking() -> None:
    # ranking: TP, FP, TP over 2 positives -> precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1
    # all-point AP = 0.5 * 1 + 0.5 * 2/3
    truths = [GroundTruth("person", A), GroundTruth("person", B)]
    preds = [
        Prediction("person", 0.9, A),
        Prediction("person", 0.8, C),
        Prediction("person", 0.7, B),
    ]
    m = evaluate_detections([(truths, preds)], labels=["person"], confidence_threshold=0.0)[
        "person"
    ]
    assert m.ap50 == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert average_precision([0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3]) == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_wrong_class_and_low_iou_and_duplicates_are_false_positives() -> None:
    truths = [GroundTruth("face_bare", A)]
    preds = [
        Prediction("face_masked", 0.9, A),  # right place, wrong class
        Prediction("face_bare", 0.8, (10.0, 10.0, 30.0, 30.0)),  # IoU 1/7
        Prediction("face_bare", 0.7, A),
        Prediction("face_bare", 0.6, A),  # a duplicate of a matched box
    ]
    metrics = evaluate_detections(
        [(truths, preds)], labels=["face_bare", "face_masked"], confidence_threshold=0.0
    )
    bare, masked = metrics["face_bare"], metrics["face_masked"]
    assert (bare.true_positives, bare.false_positives) == (1, 2)
    assert (masked.false_positives, masked.ground_truth) == (1, 0)
    assert (masked.recall, masked.ap50, masked.precision) == (None, None, 0.0)


def test_confidence_threshold_only_changes_precision_and_recall() -> None:
    truths = [GroundTruth("rodent", A), GroundTruth("rodent", B)]
    preds = [Prediction("rodent", 0.9, A), Prediction("rodent", 0.2, B)]
    m = evaluate_detections([(truths, preds)], labels=["rodent"], confidence_threshold=0.5)[
        "rodent"
    ]
    assert (m.precision, m.recall, m.ap50) == (1.0, 0.5, 1.0)


def test_small_objects_are_ignore_regions() -> None:
    small = (0.0, 0.0, 10.0, 10.0)
    truths = [GroundTruth("face_bare", small), GroundTruth("face_bare", B)]
    preds = [
        Prediction("face_bare", 0.9, small),  # on an ignored box: neither TP nor FP
        Prediction("face_bare", 0.8, B),
        Prediction("face_bare", 0.7, (200.0, 200.0, 208.0, 208.0)),  # small and unmatched: ignored
        Prediction("face_bare", 0.6, C),  # large and unmatched: FP
    ]
    m = evaluate_detections(
        [(truths, preds)], labels=["face_bare"], min_size_px=16.0, confidence_threshold=0.0
    )["face_bare"]
    assert m.ground_truth == 1
    assert (m.true_positives, m.false_positives, m.false_negatives) == (1, 1, 0)


def test_matching_is_per_image() -> None:
    image_one = ([GroundTruth("cat", A)], [Prediction("cat", 0.9, B)])
    image_two = ([GroundTruth("cat", B)], [Prediction("cat", 0.8, B)])
    m = evaluate_detections([image_one, image_two], labels=["cat"])["cat"]
    assert (m.true_positives, m.false_positives, m.false_negatives) == (1, 1, 1)


def test_recall_by_size_bins_boxes_by_their_shorter_side() -> None:
    tiny, small, mid, large = (
        (0.0, 0.0, 6.0, 30.0),  # shorter side 6: under 8
        (40.0, 0.0, 50.0, 10.0),  # 10: 8-12
        (60.0, 0.0, 90.0, 30.0),  # 30: 24-40
        (100.0, 0.0, 150.0, 60.0),  # 50: 40 and up
    )
    truths = [GroundTruth("rodent", box) for box in (tiny, small, mid, large)]
    truths.append(GroundTruth("cat", (200.0, 0.0, 250.0, 50.0)))
    preds = [
        Prediction("rodent", 0.9, small),
        Prediction("rodent", 0.8, large),
        Prediction("rodent", 0.2, mid),  # under the threshold: not found
        Prediction("cat", 0.9, tiny),  # another class: not found
        Prediction("rodent", 0.9, (200.0, 0.0, 250.0, 50.0)),  # a false positive, no effect
    ]
    rows = recall_by_size([(truths, preds)], labels=["rodent", "cat"], confidence_threshold=0.5)
    rodent = {(r.low_px, r.high_px): (r.found, r.ground_truth) for r in rows if r.label == "rodent"}
    assert rodent == {
        (0.0, 8.0): (0, 1),
        (8.0, 12.0): (1, 1),
        (12.0, 16.0): (0, 0),
        (16.0, 24.0): (0, 0),
        (24.0, 40.0): (0, 1),
        (40.0, None): (1, 1),
    }
    by_bin = {(r.label, r.low_px): r.recall for r in rows}
    assert by_bin[("rodent", 8.0)] == 1.0
    assert by_bin[("rodent", 12.0)] is None  # no box of that size
    assert by_bin[("cat", 40.0)] == 0.0


def test_recall_by_size_matches_each_box_once_over_all_sizes() -> None:
    # two predictions on one 10 px box: the box is found once, the 30 px box beside it not at all
    small, mid = (0.0, 0.0, 10.0, 10.0), (0.0, 0.0, 30.0, 30.0)
    truths = [GroundTruth("cat", small), GroundTruth("cat", mid)]
    preds = [Prediction("cat", 0.9, small), Prediction("cat", 0.8, small)]
    rows = recall_by_size(
        [(truths, preds)], labels=["cat"], confidence_threshold=0.5, edges_px=(20.0,)
    )
    assert [(r.low_px, r.high_px, r.found, r.ground_truth) for r in rows] == [
        (0.0, 20.0, 1, 1),
        (20.0, None, 0, 1),
    ]


def test_event_matching_on_a_hand_made_timeline() -> None:
    truth = [
        ScenarioEvent("no_hat", "cam-1", 12.0, 20.0),
        ScenarioEvent("rodent", "cam-1", 40.0, 46.0),
        ScenarioEvent("rodent", "cam-2", 40.0, 46.0),
    ]
    predicted = [
        ScenarioEvent("no_hat", "cam-1", 15.0, 15.0),  # an alert during the violation
        ScenarioEvent("no_hat", "cam-1", 19.0, 19.0),  # a repeat inside the same violation: correct
        ScenarioEvent("no_hat", "cam-1", 30.0, 30.0),  # nothing happened then: a false alarm
        ScenarioEvent("rodent", "cam-2", 43.0, 43.0),
        ScenarioEvent("rodent", "cam-3", 43.0, 43.0),  # another camera: no match
        ScenarioEvent("no_mask", "cam-1", 15.0, 15.0),  # right time, wrong kind
    ]
    metrics = match_events(
        [(truth, predicted)], kinds=["no_hat", "no_mask", "rodent", "uncovered_food"]
    )
    assert metrics["no_hat"].precision == pytest.approx(2 / 3)
    assert metrics["no_hat"].recall == 1.0
    assert (metrics["rodent"].precision, metrics["rodent"].recall) == (0.5, 0.5)
    assert (metrics["no_mask"].precision, metrics["no_mask"].recall) == (0.0, None)
    assert (metrics["uncovered_food"].precision, metrics["uncovered_food"].recall) == (None, None)


def test_event_tolerance_and_videos_matched_separately() -> None:
    truth = [ScenarioEvent("rodent", "cam-1", 10.0, 12.0)]
    late = [ScenarioEvent("rodent", "cam-1", 13.0, 13.0)]
    assert match_events([(truth, late)], kinds=["rodent"])["rodent"].recall == 0.0
    assert match_events([(truth, late)], kinds=["rodent"], tolerance_s=1.5)["rodent"].recall == 1.0
    other_video: tuple[list[ScenarioEvent], list[ScenarioEvent]] = (
        [],
        [ScenarioEvent("rodent", "cam-1", 11.0, 11.0)],
    )
    metrics = match_events([(truth, late), other_video], kinds=["rodent"], tolerance_s=1.5)[
        "rodent"
    ]
    assert (metrics.truth, metrics.predicted, metrics.correct_predictions) == (1, 2, 1)
