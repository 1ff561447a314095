"""Detection metrics (per-class precision, recall, AP50) and event-level matching for scenarios.

Box protocol (VOC/COCO-style, at one IoU threshold, default 0.5):
- Per image and class, predictions are taken in decreasing confidence; each is matched to the
  not-yet-matched ground-truth box of its class with the highest IoU, if that IoU >= the threshold
  (true positive). Ties in confidence keep the input order.
- Small objects are "ignore regions", as COCO treats crowd boxes: a ground-truth box whose shorter
  side is under min_size_px is neither counted as a positive nor as missed; a prediction that does
  not match a counted box but overlaps an ignored one (IoU >= threshold) is dropped, not counted as
  a false positive; so is an unmatched prediction whose own shorter side is under min_size_px.
  Every other prediction is a false positive.
- AP50 is the area under the all-point interpolated precision/recall curve (VOC 2010+) over all
  predictions; precision and recall are reported at one confidence threshold.
- A class without counted ground truth has recall and AP None; a class without predictions above the
  threshold has precision None (undefined values are None, never NaN, so they serialise to JSON).
- Recall by size (recall_by_size) bins the ground-truth boxes by their shorter side, counting every
  box whatever min_size_px: it says from what size on a class is found.

Event protocol: a predicted event matches a ground-truth event when kind and camera agree and their
time spans overlap (closed intervals, widened by tolerance_s; a point event has start_s == end_s).
Recall = ground-truth events matched by at least one prediction / ground-truth events. Precision =
predictions matching at least one ground-truth event / predictions, so repeated alerts about one
long violation (a cooldown expired) are all correct, and an alert with no violation is a false
alarm.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

XYXY = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class GroundTruth:
    label: str
    xyxy: XYXY  # pixels


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    confidence: float
    xyxy: XYXY  # pixels


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    label: str
    ground_truth: int  # counted boxes (ignored small ones excluded)
    predictions: int  # counted predictions at or above the confidence threshold
    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float | None
    recall: float | None
    ap50: float | None


def iou(a: XYXY, b: XYXY) -> float:
    """Intersection over union of two boxes (x2/y2 exclusive, so areas are (x2-x1)*(y2-y1))."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def short_side(box: XYXY) -> float:
    return min(box[2] - box[0], box[3] - box[1])


def average_precision(recall: Sequence[float], precision: Sequence[float]) -> float:
    """All-point interpolated AP from a ranked list's cumulative recall and precision."""
    mrec = np.concatenate([[0.0], np.asarray(recall, dtype=np.float64), [1.0]])
    mpre = np.concatenate([[0.0], np.asarray(precision, dtype=np.float64), [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # the precision envelope
    steps = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


@dataclass(slots=True)
class _Tally:
    ground_truth: int = 0
    scored: list[tuple[float, bool]] = field(default_factory=list)  # (confidence, true positive)


def greedy_match(
    boxes: Sequence[XYXY], ranked: Sequence[Prediction], iou_threshold: float
) -> list[int]:
    """For each prediction (best first), the index of the not-yet-matched box it takes (the one
    of highest IoU at or above the threshold), or -1."""
    matched = [False] * len(boxes)
    taken = []
    for pred in ranked:
        best, best_iou = -1, iou_threshold
        for index, box in enumerate(boxes):
            if not matched[index]:
                overlap = iou(pred.xyxy, box)
                if overlap >= best_iou:
                    best, best_iou = index, overlap
        if best >= 0:
            matched[best] = True
        taken.append(best)
    return taken


def by_confidence(predictions: Iterable[Prediction], label: str) -> list[Prediction]:
    """The predictions of one class, most confident first (ties keep the input order)."""
    return sorted((p for p in predictions if p.label == label), key=lambda p: -p.confidence)


def counted_and_ignored(
    truths: Sequence[GroundTruth], label: str, min_size_px: float
) -> tuple[list[XYXY], list[XYXY]]:
    """The boxes of one class that count, and the small ones that are ignore regions."""
    boxes = [t.xyxy for t in truths if t.label == label]
    return (
        [box for box in boxes if short_side(box) >= min_size_px],
        [box for box in boxes if short_side(box) < min_size_px],
    )


def is_ignored(
    pred: Prediction, ignored: Sequence[XYXY], *, min_size_px: float, iou_threshold: float
) -> bool:
    """Whether an unmatched prediction is dropped rather than counted false: it is small itself,
    or it lies on an ignored ground-truth box."""
    return short_side(pred.xyxy) < min_size_px or any(
        iou(pred.xyxy, box) >= iou_threshold for box in ignored
    )


def _match_image(
    truths: Sequence[GroundTruth],
    predictions: Sequence[Prediction],
    label: str,
    tally: _Tally,
    *,
    iou_threshold: float,
    min_size_px: float,
) -> None:
    counted, ignored = counted_and_ignored(truths, label, min_size_px)
    tally.ground_truth += len(counted)
    ranked = by_confidence(predictions, label)
    for pred, taken in zip(ranked, greedy_match(counted, ranked, iou_threshold), strict=True):
        if taken >= 0:
            tally.scored.append((pred.confidence, True))
        elif not is_ignored(pred, ignored, min_size_px=min_size_px, iou_threshold=iou_threshold):
            tally.scored.append((pred.confidence, False))


def evaluate_detections(
    images: Iterable[tuple[Sequence[GroundTruth], Sequence[Prediction]]],
    *,
    labels: Sequence[str],
    iou_threshold: float = 0.5,
    min_size_px: float = 0.0,
    confidence_threshold: float = 0.25,
) -> dict[str, ClassMetrics]:
    """Per-class metrics over images given as (ground truth, predictions) pairs; see module doc."""
    tallies = {label: _Tally() for label in labels}
    for truths, predictions in images:
        for label in labels:
            _match_image(
                truths,
                predictions,
                label,
                tallies[label],
                iou_threshold=iou_threshold,
                min_size_px=min_size_px,
            )
    return {
        label: _summarise(label, tally, confidence_threshold) for label, tally in tallies.items()
    }


def _summarise(label: str, tally: _Tally, confidence_threshold: float) -> ClassMetrics:
    order = sorted(range(len(tally.scored)), key=lambda i: -tally.scored[i][0])
    hits = np.array([tally.scored[i][1] for i in order], dtype=bool)
    confidences = np.array([tally.scored[i][0] for i in order], dtype=np.float64)
    tp_cum = np.cumsum(hits)
    fp_cum = np.cumsum(~hits)
    ap: float | None = None
    if tally.ground_truth > 0:
        if len(hits):
            recall = tp_cum / tally.ground_truth
            precision = tp_cum / np.maximum(tp_cum + fp_cum, 1)
            ap = average_precision(recall.tolist(), precision.tolist())
        else:
            ap = 0.0
    kept = confidences >= confidence_threshold
    tp = int(np.count_nonzero(hits & kept))
    fp = int(np.count_nonzero(~hits & kept))
    return ClassMetrics(
        label=label,
        ground_truth=tally.ground_truth,
        predictions=tp + fp,
        true_positives=tp,
        false_positives=fp,
        false_negatives=tally.ground_truth - tp,
        precision=tp / (tp + fp) if tp + fp else None,
        recall=tp / tally.ground_truth if tally.ground_truth else None,
        ap50=ap,
    )


# recall_by_size's bin edges (a box's shorter side, px): under 8, 8-12, ..., 40 and up
SIZE_EDGES_PX = (8.0, 12.0, 16.0, 24.0, 40.0)


@dataclass(frozen=True, slots=True)
class SizeRecall:
    """Recall of one class over its ground-truth boxes with a shorter side in [low_px, high_px)."""

    label: str
    low_px: float
    high_px: float | None  # None: no upper edge
    ground_truth: int
    found: int

    @property
    def recall(self) -> float | None:
        return self.found / self.ground_truth if self.ground_truth else None


def recall_by_size(
    images: Iterable[tuple[Sequence[GroundTruth], Sequence[Prediction]]],
    *,
    labels: Sequence[str],
    confidence_threshold: float,
    iou_threshold: float = 0.5,
    edges_px: Sequence[float] = SIZE_EDGES_PX,
) -> tuple[SizeRecall, ...]:
    """Per class and size bin (a box's shorter side, binned at edges_px), the share of
    ground-truth boxes that a prediction at or above confidence_threshold finds; matching as in
    the box protocol, over every box of the image whatever its size."""
    bounds = [0.0, *edges_px]
    found = {label: [0] * len(bounds) for label in labels}
    total = {label: [0] * len(bounds) for label in labels}
    for truths, predictions in images:
        kept = [p for p in predictions if p.confidence >= confidence_threshold]
        for label in labels:
            boxes = [t.xyxy for t in truths if t.label == label]
            taken = set(greedy_match(boxes, by_confidence(kept, label), iou_threshold))
            for index, box in enumerate(boxes):
                size_bin = int(np.searchsorted(edges_px, short_side(box), side="right"))
                total[label][size_bin] += 1
                found[label][size_bin] += int(index in taken)
    return tuple(
        SizeRecall(
            label=label,
            low_px=low,
            high_px=bounds[i + 1] if i + 1 < len(bounds) else None,
            ground_truth=total[label][i],
            found=found[label][i],
        )
        for label in labels
        for i, low in enumerate(bounds)
    )


class TimedEvent(Protocol):
    """Anything with a kind, a camera and a time span (scenes.timeline.ScenarioEvent fits)."""

    @property
    def kind(self) -> str: ...
    @property
    def camera(self) -> str: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class EventMetrics:
    kind: str
    truth: int  # ground-truth events
    predicted: int  # predicted events
    matched_truth: int  # ground-truth events matched by at least one prediction
    correct_predictions: int  # predictions matching at least one ground-truth event
    precision: float | None
    recall: float | None


def events_overlap(a: TimedEvent, b: TimedEvent, *, tolerance_s: float = 0.0) -> bool:
    return (
        a.kind == b.kind
        and a.camera == b.camera
        and a.start_s <= b.end_s + tolerance_s
        and b.start_s <= a.end_s + tolerance_s
    )


def match_events(
    videos: Iterable[tuple[Sequence[TimedEvent], Sequence[TimedEvent]]],
    *,
    kinds: Sequence[str],
    tolerance_s: float = 0.0,
) -> dict[str, EventMetrics]:
    """Event precision and recall per kind over videos given as (ground truth, predicted) pairs.

    Each video is matched on its own: the same camera name in two videos never matches across them.
    """
    counts = {
        kind: [0, 0, 0, 0] for kind in kinds
    }  # truth, predicted, matched truth, correct predictions
    for truth, predicted in videos:
        for kind in kinds:
            gt = [e for e in truth if e.kind == kind]
            pr = [e for e in predicted if e.kind == kind]
            counts[kind][0] += len(gt)
            counts[kind][1] += len(pr)
            counts[kind][2] += sum(
                any(events_overlap(g, p, tolerance_s=tolerance_s) for p in pr) for g in gt
            )
            counts[kind][3] += sum(
                any(events_overlap(p, g, tolerance_s=tolerance_s) for g in gt) for p in pr
            )
    return {
        kind: EventMetrics(
            kind=kind,
            truth=t,
            predicted=p,
            matched_truth=m,
            correct_predictions=c,
            precision=c / p if p else None,
            recall=m / t if t else None,
        )
        for kind, (t, p, m, c) in counts.items()
    }
