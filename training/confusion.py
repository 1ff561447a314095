"""What a detector's errors are, per class, at one confidence threshold: which other class it read
a missed box as, and what lay under a false box.

AP50 and recall say how much is lost; this says why, which is what decides the next step (more
examples of a class, or of the class it is confused with, or a larger input for what is never
seen). The box protocol is training.metrics' (greedy matching at an IoU threshold, boxes whose
shorter side is under min_size_px ignored), so each class's misses add up to its false negatives
and its false boxes to its false positives.

A missed box (a counted ground-truth box no prediction of its class at or above the threshold
takes) is, in this order:
- read as another class: a prediction of another class at or above the threshold overlaps it at
  IoU >= the IoU threshold; the one of highest IoU names the class (a head box around a small face
  can be that class: the face is part of the head);
- below the threshold: a prediction of its own class overlaps it, but only under the threshold;
- lost to a neighbour: a prediction of its own class at or above the threshold overlaps it but was
  matched to another box of that class (two objects close together, one box);
- unseen: no box of its own class at any confidence overlaps it (nor one of another class at the
  threshold).

A false box (a prediction at or above the threshold that takes no counted box of its class, and
neither is small nor lies on an ignored box) lies, in this order:
- on another class: it overlaps a ground-truth box of another class (any size) at IoU >= the IoU
  threshold; the box of highest IoU names the class;
- on a box already found: it overlaps a box of its own class that another prediction took (a
  second box on one object);
- on background: anything else (clutter, shadows, or an object left unlabelled).
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from training.metrics import (
    XYXY,
    GroundTruth,
    Prediction,
    by_confidence,
    counted_and_ignored,
    greedy_match,
    iou,
    is_ignored,
)


@dataclass(frozen=True, slots=True)
class ClassConfusion:
    label: str
    missed: int  # counted boxes not found at the threshold (the class's false negatives)
    read_as: tuple[tuple[str, int], ...]  # (other class, missed boxes read as it), most first
    below_threshold: int
    lost_to_neighbour: int
    unseen: int
    false_boxes: int  # the class's false positives at the threshold
    on_class: tuple[tuple[str, int], ...]  # (other class, false boxes on one of its boxes)
    on_found: int
    on_background: int


@dataclass
class _Counts:
    missed: int = 0
    read_as: Counter[str] = field(default_factory=Counter)
    below_threshold: int = 0
    lost_to_neighbour: int = 0
    unseen: int = 0
    false_boxes: int = 0
    on_class: Counter[str] = field(default_factory=Counter)
    on_found: int = 0
    on_background: int = 0


def _best_overlap(box: XYXY, others: Iterable[tuple[str, XYXY]], threshold: float) -> str | None:
    """The label of the box in others of highest IoU with box, if that IoU reaches threshold."""
    best, best_iou = None, threshold
    for label, other in others:
        overlap = iou(box, other)
        if overlap >= best_iou:
            best, best_iou = label, overlap
    return best


def _tally_misses(
    counts: _Counts,
    boxes: Sequence[XYXY],
    taken: set[int],
    label: str,
    kept: Sequence[Prediction],
    predictions: Sequence[Prediction],
    iou_threshold: float,
) -> None:
    other_kept = [(p.label, p.xyxy) for p in kept if p.label != label]
    for index, box in enumerate(boxes):
        if index in taken:
            continue
        counts.missed += 1
        read_as = _best_overlap(box, other_kept, iou_threshold)
        if read_as is not None:
            counts.read_as[read_as] += 1
        elif any(p.label == label and iou(p.xyxy, box) >= iou_threshold for p in kept):
            counts.lost_to_neighbour += 1
        elif any(p.label == label and iou(p.xyxy, box) >= iou_threshold for p in predictions):
            counts.below_threshold += 1
        else:
            counts.unseen += 1


def _tally_false_boxes(
    counts: _Counts,
    truths: Sequence[GroundTruth],
    label: str,
    own: Sequence[Prediction],
    matches: Sequence[int],
    boxes: Sequence[XYXY],
    ignored: Sequence[XYXY],
    iou_threshold: float,
    min_size_px: float,
) -> None:
    others = [(t.label, t.xyxy) for t in truths if t.label != label]
    for pred, match in zip(own, matches, strict=True):
        if match >= 0 or is_ignored(
            pred, ignored, min_size_px=min_size_px, iou_threshold=iou_threshold
        ):
            continue
        counts.false_boxes += 1
        on_class = _best_overlap(pred.xyxy, others, iou_threshold)
        if on_class is not None:
            counts.on_class[on_class] += 1
        elif any(iou(pred.xyxy, box) >= iou_threshold for box in boxes):
            counts.on_found += 1
        else:
            counts.on_background += 1


def confusion(
    images: Iterable[tuple[Sequence[GroundTruth], Sequence[Prediction]]],
    *,
    labels: Sequence[str],
    confidence_threshold: float,
    iou_threshold: float = 0.5,
    min_size_px: float = 0.0,
) -> tuple[ClassConfusion, ...]:
    """Per class, its missed boxes and false boxes at confidence_threshold, by kind (module doc)."""
    counts = {label: _Counts() for label in labels}
    for truths, predictions in images:
        kept = [p for p in predictions if p.confidence >= confidence_threshold]
        for label in labels:
            boxes, ignored = counted_and_ignored(truths, label, min_size_px)
            own = by_confidence(kept, label)
            matches = greedy_match(boxes, own, iou_threshold)
            taken = {m for m in matches if m >= 0}
            _tally_misses(counts[label], boxes, taken, label, kept, predictions, iou_threshold)
            _tally_false_boxes(
                counts[label],
                truths,
                label,
                own,
                matches,
                boxes,
                ignored,
                iou_threshold,
                min_size_px,
            )
    return tuple(_freeze(label, counts[label]) for label in labels)


def _freeze(label: str, counts: _Counts) -> ClassConfusion:
    return ClassConfusion(
        label=label,
        missed=counts.missed,
        read_as=tuple(counts.read_as.most_common()),
        below_threshold=counts.below_threshold,
        lost_to_neighbour=counts.lost_to_neighbour,
        unseen=counts.unseen,
        false_boxes=counts.false_boxes,
        on_class=tuple(counts.on_class.most_common()),
        on_found=counts.on_found,
        on_background=counts.on_background,
    )
