"""Decoding of ultralytics YOLO outputs: confidence filter, per-class NMS, boxes in input pixels."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detector.errors import DetectorError

MAX_NMS_CANDIDATES = 30_000  # as ultralytics: the highest-scoring boxes that enter NMS


@dataclass(frozen=True, slots=True)
class Candidates:
    """Boxes still in the model's input pixels, not yet mapped back to the frame."""

    xyxy: NDArray[np.float32]  # (N, 4)
    confidence: NDArray[np.float32]  # (N,)
    class_id: NDArray[np.int64]  # (N,)

    @classmethod
    def empty(cls) -> "Candidates":
        return cls(
            np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0,), np.int64)
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])


def decode_raw(
    output: NDArray[np.float32],
    *,
    num_classes: int,
    confidence_threshold: float,
    iou_threshold: float,
    max_detections: int,
) -> Candidates:
    """(4 + nc, anchors): cx, cy, w, h then class scores -> the kept boxes, best first."""
    if output.ndim != 2 or output.shape[0] != 4 + num_classes:
        raise DetectorError(f"expected output (4 + {num_classes}, anchors), got {output.shape}")
    scores = output[4:]
    if num_classes == 1:
        best = scores[0]
        index = np.flatnonzero(best > confidence_threshold)
        class_id = np.zeros(index.shape[0], np.int64)
        confidence = best[index]
    else:
        best = scores.max(axis=0)
        index = np.flatnonzero(best > confidence_threshold)
        class_id = scores[:, index].argmax(axis=0).astype(np.int64)
        confidence = best[index]
    if index.size == 0:
        return Candidates.empty()
    if index.size > MAX_NMS_CANDIDATES:
        top = np.argsort(-confidence, kind="stable")[:MAX_NMS_CANDIDATES]
        index, class_id, confidence = index[top], class_id[top], confidence[top]
    cx, cy, w, h = output[:4, index]
    half_w, half_h = w / 2, h / 2
    xyxy = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    keep = nms_per_class(xyxy, confidence, class_id, iou_threshold, max_detections)
    return Candidates(
        xyxy=xyxy[keep].astype(np.float32, copy=False),
        confidence=confidence[keep].astype(np.float32, copy=False),
        class_id=class_id[keep],
    )


def decode_nms(
    output: NDArray[np.float32],
    *,
    num_classes: int,
    confidence_threshold: float,
    max_detections: int,
) -> Candidates:
    """(max_det, 6): x1, y1, x2, y2, score, class after the graph's own NMS -> the kept boxes."""
    if output.ndim != 2 or output.shape[1] != 6:
        raise DetectorError(f"expected output (max_det, 6), got {output.shape}")
    rows = output[output[:, 4] > confidence_threshold]
    if rows.shape[0] == 0:
        return Candidates.empty()
    rows = rows[np.argsort(-rows[:, 4], kind="stable")][:max_detections]
    class_id = np.rint(rows[:, 5]).astype(np.int64)
    if class_id.min() < 0 or class_id.max() >= num_classes:
        raise DetectorError(
            f"model output class ids {sorted(set(class_id.tolist()))}, "
            f"but its names list {num_classes} classes"
        )
    return Candidates(
        xyxy=np.ascontiguousarray(rows[:, :4], dtype=np.float32),
        confidence=rows[:, 4].astype(np.float32),
        class_id=class_id,
    )


def nms_per_class(
    xyxy: NDArray[np.float32],
    confidence: NDArray[np.float32],
    class_id: NDArray[np.int64],
    iou_threshold: float,
    max_detections: int,
) -> NDArray[np.int64]:
    """Greedy NMS within each class; indices of the kept boxes, highest confidence first.

    Boxes of different classes are shifted apart (as ultralytics does with its class offset) so
    one vectorised pass never lets a box suppress a box of another class.
    """
    count = xyxy.shape[0]
    if count == 0 or max_detections <= 0:
        return np.zeros((0,), np.int64)
    order = np.argsort(-confidence, kind="stable")
    if count == 1:
        return order
    boxes = xyxy[order].astype(np.float64)
    if class_id.min() != class_id.max():
        span = float(boxes.max() - min(boxes.min(), 0.0)) + 1.0
        boxes += (class_id[order].astype(np.float64) * span)[:, None]
    if count <= _PAIRWISE_MAX:
        keep = _greedy_pairwise(boxes, iou_threshold, max_detections)
    else:
        keep = _greedy_iterative(boxes, iou_threshold, max_detections)
    return order[keep]


_PAIRWISE_MAX = 256  # up to here one IoU matrix is cheaper than a pass per kept box


def _greedy_pairwise(
    boxes: NDArray[np.float64], iou_threshold: float, max_detections: int
) -> NDArray[np.int64]:
    """Boxes sorted by confidence -> positions kept, from the full IoU matrix."""
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    inter_w = np.clip(np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1), 0, None)
    inter_h = np.clip(np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1), 0, None)
    inter = inter_w * inter_h
    union = areas[:, None] + areas - inter
    overlaps = inter > iou_threshold * union  # IoU > threshold without dividing by a zero union
    suppressed = np.zeros(boxes.shape[0], np.bool_)
    keep: list[int] = []
    for position in range(boxes.shape[0]):
        if suppressed[position]:
            continue
        keep.append(position)
        if len(keep) == max_detections:
            break
        suppressed |= overlaps[position]
    return np.array(keep, dtype=np.int64)


def _greedy_iterative(
    boxes: NDArray[np.float64], iou_threshold: float, max_detections: int
) -> NDArray[np.int64]:
    """Boxes sorted by confidence -> positions kept, one vectorised pass per kept box."""
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    remaining = np.arange(boxes.shape[0])
    keep: list[int] = []
    while remaining.size and len(keep) < max_detections:
        best = int(remaining[0])
        keep.append(best)
        rest = remaining[1:]
        inter_w = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        inter_h = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        inter = inter_w * inter_h
        union = areas[best] + areas[rest] - inter
        remaining = rest[inter <= iou_threshold * union]
    return np.array(keep, dtype=np.int64)
