"""Decoding ultralytics outputs on hand-made arrays whose answers are known."""

import numpy as np
import pytest
from numpy.typing import NDArray

from detector.errors import DetectorError
from detector.postprocess import decode_nms, decode_raw, nms_per_class


def raw_output(rows: list[tuple[float, float, float, float, list[float]]]) -> NDArray[np.float32]:
    """(4 + nc, anchors) from anchors given as (cx, cy, w, h, class scores)."""
    return np.array([[*box, *scores] for *box, scores in rows], dtype=np.float32).T.copy()


def decode(
    output: NDArray[np.float32], **overrides: float
) -> tuple[list[list[float]], list[float], list[int]]:
    options = {"confidence_threshold": 0.25, "iou_threshold": 0.45, "max_detections": 300.0}
    options.update(overrides)
    candidates = decode_raw(
        output,
        num_classes=output.shape[0] - 4,
        confidence_threshold=options["confidence_threshold"],
        iou_threshold=options["iou_threshold"],
        max_detections=int(options["max_detections"]),
    )
    return (
        candidates.xyxy.astype(np.float64).round(3).tolist(),
        candidates.confidence.astype(np.float64).round(3).tolist(),
        candidates.class_id.tolist(),
    )


def test_raw_boxes_become_corners_and_low_scores_are_dropped() -> None:
    output = raw_output(
        [
            (50, 40, 20, 10, [0.9, 0.0]),
            (200, 100, 30, 30, [0.1, 0.2]),  # below 0.25 in every class
            (300, 200, 10, 40, [0.05, 0.6]),
        ]
    )
    boxes, scores, classes = decode(output)
    assert boxes == [[40, 35, 60, 45], [295, 180, 305, 220]]
    assert scores == [0.9, 0.6]
    assert classes == [0, 1]


def test_overlapping_boxes_of_one_class_keep_the_most_confident() -> None:
    # best [0,0,10,10]; [1,0,11,10] has IoU 90/110 = 0.82 with it -> suppressed;
    # [5,0,15,10] has IoU 50/150 = 0.33 -> kept
    output = raw_output(
        [
            (6, 5, 10, 10, [0.7]),
            (5, 5, 10, 10, [0.9]),
            (10, 5, 10, 10, [0.8]),
        ]
    )
    boxes, scores, classes = decode(output)
    assert boxes == [[0, 0, 10, 10], [5, 0, 15, 10]]
    assert scores == [0.9, 0.8]
    assert classes == [0, 0]


def test_iou_threshold_decides_what_overlaps() -> None:
    output = raw_output([(5, 5, 10, 10, [0.9]), (10, 5, 10, 10, [0.8])])  # IoU 1/3
    assert len(decode(output, iou_threshold=0.5)[0]) == 2
    assert len(decode(output, iou_threshold=0.3)[0]) == 1


def test_the_same_box_in_two_classes_is_kept_once_per_class() -> None:
    output = raw_output(
        [
            (5, 5, 10, 10, [0.9, 0.0]),
            (5, 5, 10, 10, [0.0, 0.8]),
            (5.5, 5, 10, 10, [0.0, 0.7]),  # same class as the one before, IoU 0.9 -> suppressed
        ]
    )
    boxes, scores, classes = decode(output)
    assert boxes == [[0, 0, 10, 10], [0, 0, 10, 10]]
    assert scores == [0.9, 0.8]
    assert classes == [0, 1]


def test_each_anchor_takes_its_best_class() -> None:
    output = raw_output([(5, 5, 10, 10, [0.3, 0.6, 0.5])])
    assert decode(output)[1:] == ([0.6], [1])


def test_max_detections_keeps_the_most_confident() -> None:
    output = raw_output([(20.0 * i, 5, 10, 10, [0.5 + 0.01 * i]) for i in range(10)])
    boxes, scores, _ = decode(output, max_detections=3)
    assert scores == [0.59, 0.58, 0.57]
    assert boxes[0] == [175, 0, 185, 10]


def test_nothing_above_the_threshold_gives_nothing() -> None:
    output = raw_output([(5, 5, 10, 10, [0.25]), (50, 5, 10, 10, [0.1])])
    assert decode(output) == ([], [], [])


def test_raw_output_of_the_wrong_shape_is_an_error() -> None:
    with pytest.raises(DetectorError, match=r"4 \+ 2"):
        decode_raw(
            np.zeros((5, 10), np.float32),
            num_classes=2,
            confidence_threshold=0.25,
            iou_threshold=0.45,
            max_detections=300,
        )


def test_nms_ignores_degenerate_boxes_without_dividing_by_zero() -> None:
    xyxy = np.array([[5, 5, 5, 5], [5, 5, 5, 5], [0, 0, 10, 10]], np.float32)
    keep = nms_per_class(
        xyxy, np.array([0.9, 0.8, 0.7], np.float32), np.zeros(3, np.int64), 0.45, 300
    )
    assert keep.tolist() == [0, 1, 2]


def test_nms_separates_classes_even_with_negative_coordinates() -> None:
    xyxy = np.array([[-50, -50, -10, -10], [-50, -50, -10, -10]], np.float32)
    keep = nms_per_class(
        xyxy, np.array([0.9, 0.8], np.float32), np.array([0, 1], np.int64), 0.45, 300
    )
    assert keep.tolist() == [0, 1]


def nms_rows(rows: list[list[float]], max_det: int = 8) -> NDArray[np.float32]:
    output = np.zeros((max_det, 6), np.float32)
    output[: len(rows)] = rows
    return output


def test_nms_output_rows_are_filtered_and_zero_padding_dropped() -> None:
    output = nms_rows([[10, 20, 30, 40, 0.9, 1], [50, 60, 70, 80, 0.3, 0], [1, 2, 3, 4, 0.2, 0]])
    candidates = decode_nms(output, num_classes=2, confidence_threshold=0.25, max_detections=300)
    assert candidates.xyxy.tolist() == [[10, 20, 30, 40], [50, 60, 70, 80]]
    assert candidates.confidence.astype(np.float64).round(3).tolist() == [0.9, 0.3]
    assert candidates.class_id.tolist() == [1, 0]


def test_nms_output_respects_max_detections_and_sorts() -> None:
    output = nms_rows([[0, 0, 1, 1, 0.5, 0], [0, 0, 2, 2, 0.8, 0], [0, 0, 3, 3, 0.7, 0]])
    candidates = decode_nms(output, num_classes=1, confidence_threshold=0.25, max_detections=2)
    assert candidates.confidence.astype(np.float64).round(3).tolist() == [0.8, 0.7]


def test_nms_output_with_an_unknown_class_is_an_error() -> None:
    output = nms_rows([[0, 0, 1, 1, 0.9, 3]])
    with pytest.raises(DetectorError, match=r"class ids \[3\].*2 classes"):
        decode_nms(output, num_classes=2, confidence_threshold=0.25, max_detections=300)


def test_nms_output_of_the_wrong_shape_is_an_error() -> None:
    with pytest.raises(DetectorError, match="max_det, 6"):
        decode_nms(
            np.zeros((6, 300), np.float32),
            num_classes=2,
            confidence_threshold=0.25,
            max_detections=3,
        )
