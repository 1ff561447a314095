"""Box geometry on (N, 4) xyxy pixel arrays: IoU, cover fractions, centres, 0..1 normalisation."""

import numpy as np
from numpy.typing import NDArray

from edge.violation import Box

FloatArray = NDArray[np.float64]


def as_boxes(xyxy: NDArray[np.floating]) -> FloatArray:
    """Boxes as a float64 (N, 4) array with x1 <= x2 and y1 <= y2, whatever order they came in."""
    boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    ordered: FloatArray = np.concatenate(
        [np.minimum(boxes[:, :2], boxes[:, 2:]), np.maximum(boxes[:, :2], boxes[:, 2:])], axis=1
    )
    return ordered


def areas(boxes: FloatArray) -> FloatArray:
    result: FloatArray = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return result


def intersections(first: FloatArray, second: FloatArray) -> FloatArray:
    """(N, M) intersection areas of every box of `first` with every box of `second`."""
    top_left = np.maximum(first[:, np.newaxis, :2], second[np.newaxis, :, :2])
    bottom_right = np.minimum(first[:, np.newaxis, 2:], second[np.newaxis, :, 2:])
    sides = np.clip(bottom_right - top_left, 0.0, None)
    result: FloatArray = sides[..., 0] * sides[..., 1]
    return result


def iou_matrix(first: FloatArray, second: FloatArray) -> FloatArray:
    """(N, M) intersection over union; 0 where a pair does not overlap or a box has no area."""
    inter = intersections(first, second)
    union = areas(first)[:, np.newaxis] + areas(second)[np.newaxis, :] - inter
    result: FloatArray = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0.0)
    return result


def cover_matrix(first: FloatArray, second: FloatArray) -> FloatArray:
    """(N, M) fraction of each box of `first` that lies inside each box of `second`."""
    inter = intersections(first, second)
    own = areas(first)[:, np.newaxis]
    result: FloatArray = np.divide(inter, own, out=np.zeros_like(inter), where=own > 0.0)
    return result


def centres(boxes: FloatArray) -> FloatArray:
    result: FloatArray = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    return result


def diagonals(boxes: FloatArray) -> FloatArray:
    result: FloatArray = np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    return result


def normalized_box(
    xyxy: FloatArray, *, label: str, confidence: float, width: int, height: int
) -> Box:
    """One pixel box (4,) of a width x height frame as a Box in 0..1 coordinates."""
    scale = np.array([width, height, width, height], dtype=np.float64)
    x1, y1, x2, y2 = np.clip(as_boxes(xyxy)[0] / scale, 0.0, 1.0).tolist()
    return Box(
        label=label,
        confidence=min(max(confidence, 0.0), 1.0),
        x1=float(x1),
        y1=float(y1),
        x2=float(x2),
        y2=float(y2),
    )
