"""What missed and false boxes were, on hand-made cases with known answers."""

import random

from training.confusion import ClassConfusion, confusion
from training.metrics import GroundTruth, Prediction, evaluate_detections

A = (0.0, 0.0, 20.0, 20.0)
B = (50.0, 50.0, 80.0, 90.0)
C = (100.0, 0.0, 130.0, 30.0)
SLIGHTLY_OFF_A = (1.0, 0.0, 21.0, 20.0)  # IoU 0.9 with A


def _one(label: str, rows: tuple[ClassConfusion, ...]) -> ClassConfusion:
    (row,) = [r for r in rows if r.label == label]
    return row


def test_a_swapped_class_is_a_miss_of_one_and_a_false_box_of_the_other() -> None:
    truths = [GroundTruth("food_covered", A)]
    preds = [Prediction("food_uncovered", 0.8, SLIGHTLY_OFF_A)]
    rows = confusion(
        [(truths, preds)], labels=["food_covered", "food_uncovered"], confidence_threshold=0.5
    )
    covered, uncovered = _one("food_covered", rows), _one("food_uncovered", rows)
    assert (covered.missed, covered.read_as) == (1, (("food_uncovered", 1),))
    assert (covered.below_threshold, covered.unseen, covered.false_boxes) == (0, 0, 0)
    assert (uncovered.missed, uncovered.false_boxes) == (0, 1)
    assert uncovered.on_class == (("food_covered", 1),)
    assert (uncovered.on_found, uncovered.on_background) == (0, 0)


def test_the_overlapping_box_of_highest_iou_names_the_class() -> None:
    # a small masked face inside a bare head's box, and a bare face on the face itself
    face = (10.0, 10.0, 20.0, 20.0)
    truths = [GroundTruth("face_masked", face)]
    preds = [
        Prediction("head_bare", 0.9, (9.0, 8.0, 21.0, 21.0)),  # IoU 0.64, more confident
        Prediction("face_bare", 0.6, (10.0, 10.0, 20.0, 21.0)),  # IoU 0.91
    ]
    rows = confusion([(truths, preds)], labels=["face_masked"], confidence_threshold=0.5)
    assert _one("face_masked", rows).read_as == (("face_bare", 1),)


def test_a_miss_found_only_under_the_threshold_or_not_at_all() -> None:
    truths = [GroundTruth("rodent", A), GroundTruth("rodent", B)]
    preds = [
        Prediction("rodent", 0.2, SLIGHTLY_OFF_A),
        Prediction("cat", 0.3, B),  # another class, but under the threshold: not a reading
    ]
    rodent = _one(
        "rodent", confusion([(truths, preds)], labels=["rodent"], confidence_threshold=0.4)
    )
    assert (rodent.missed, rodent.below_threshold, rodent.unseen, rodent.read_as) == (2, 1, 1, ())


def test_two_objects_under_one_box_lose_one_to_its_neighbour() -> None:
    right = (1.0, 0.0, 21.0, 20.0)
    truths = [GroundTruth("person", A), GroundTruth("person", right)]
    preds = [Prediction("person", 0.9, A)]
    person = _one(
        "person", confusion([(truths, preds)], labels=["person"], confidence_threshold=0.5)
    )
    assert (person.missed, person.lost_to_neighbour, person.unseen) == (1, 1, 0)
    assert person.false_boxes == 0


def test_false_boxes_on_a_found_box_and_on_background() -> None:
    truths = [GroundTruth("cat", A)]
    preds = [
        Prediction("cat", 0.9, A),
        Prediction("cat", 0.8, SLIGHTLY_OFF_A),  # a second box on the same cat
        Prediction("cat", 0.7, C),  # nothing there
        Prediction("cat", 0.1, B),  # under the threshold: not counted
    ]
    cat = _one("cat", confusion([(truths, preds)], labels=["cat"], confidence_threshold=0.5))
    assert (cat.missed, cat.false_boxes, cat.on_found, cat.on_background) == (0, 2, 1, 1)


def test_small_boxes_are_ignored_as_the_metrics_ignore_them() -> None:
    small = (0.0, 0.0, 6.0, 6.0)
    truths = [GroundTruth("rodent", small), GroundTruth("rodent", C)]
    preds = [Prediction("rodent", 0.9, small), Prediction("rodent", 0.9, (200.0, 0.0, 205.0, 5.0))]
    rodent = _one(
        "rodent",
        confusion([(truths, preds)], labels=["rodent"], confidence_threshold=0.5, min_size_px=8.0),
    )
    # the small box is neither missed nor found, the box on it and the small false one not false
    assert (rodent.missed, rodent.unseen, rodent.false_boxes) == (1, 1, 0)


def test_misses_and_false_boxes_add_up_to_the_metrics_false_negatives_and_positives() -> None:
    rng = random.Random(7)
    labels = ["head_bare", "head_covered", "rodent"]
    images = []
    for _ in range(40):
        truths = []
        preds = []
        for _ in range(rng.randint(0, 6)):
            x, y, w = rng.uniform(0, 200), rng.uniform(0, 200), rng.uniform(4, 40)
            box = (x, y, x + w, y + w * rng.uniform(0.5, 1.5))
            truths.append(GroundTruth(rng.choice(labels), box))
            if rng.random() < 0.8:  # a prediction near it, maybe of another class
                dx, dy = rng.uniform(-4, 4), rng.uniform(-4, 4)
                near = (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)
                preds.append(Prediction(rng.choice(labels), rng.random(), near))
        for _ in range(rng.randint(0, 3)):
            x, y = rng.uniform(0, 200), rng.uniform(0, 200)
            preds.append(Prediction(rng.choice(labels), rng.random(), (x, y, x + 15, y + 15)))
        images.append((truths, preds))
    for min_size in (0.0, 10.0):
        metrics = evaluate_detections(
            images, labels=labels, confidence_threshold=0.4, min_size_px=min_size
        )
        rows = confusion(images, labels=labels, confidence_threshold=0.4, min_size_px=min_size)
        for row in rows:
            m = metrics[row.label]
            kinds = sum(n for _, n in row.read_as) + row.below_threshold
            assert row.missed == m.false_negatives > 0
            assert kinds + row.lost_to_neighbour + row.unseen == row.missed
            assert row.false_boxes == m.false_positives > 0
            assert sum(n for _, n in row.on_class) + row.on_found + row.on_background == (
                row.false_boxes
            )
