"""Evaluate a detector on a labelled image set: per-class precision, recall, AP50 (table or JSON).

Predictions are taken down to PREDICT_CONFIDENCE so that AP50 sees the whole ranking; precision and
recall are reported at the given confidence threshold. The box protocol (IoU >= 0.5, boxes smaller
than min_size_px ignored) is training.metrics'. Classes reported: those of the model that have
ground truth in the set, or the ones asked for.
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from detector.detections import Detections, Detector
from training.confusion import ClassConfusion, confusion
from training.datasets import LabelledImage, load_labelled_images
from training.errors import DatasetError
from training.metrics import (
    ClassMetrics,
    Prediction,
    SizeRecall,
    evaluate_detections,
    recall_by_size,
)

logger = logging.getLogger(__name__)

PREDICT_CONFIDENCE = 0.01
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ImageSetReport:
    data: str
    images: int
    confidence: float
    min_size_px: float
    iou_threshold: float
    classes: tuple[ClassMetrics, ...]
    # recall per class and size bin of every ground-truth box (min_size_px does not apply)
    size_recall: tuple[SizeRecall, ...] = ()
    # per class, what its missed boxes were read as and what lay under its false boxes
    confusion: tuple[ClassConfusion, ...] = ()

    @property
    def mean_ap50(self) -> float | None:
        values = [c.ap50 for c in self.classes if c.ap50 is not None]
        return sum(values) / len(values) if values else None

    def to_dict(self) -> dict[str, object]:
        document = asdict(self)
        document["classes"] = {c.label: asdict(c) for c in self.classes}
        document["size_recall"] = [{**asdict(s), "recall": s.recall} for s in self.size_recall]
        document["confusion"] = {
            c.label: {**asdict(c), "read_as": dict(c.read_as), "on_class": dict(c.on_class)}
            for c in self.confusion
        }
        document["mean_ap50"] = self.mean_ap50
        return document


def predictions_of(detections: Detections) -> list[Prediction]:
    labels = detections.labels
    return [
        Prediction(label, float(confidence), (float(x1), float(y1), float(x2), float(y2)))
        for label, confidence, (x1, y1, x2, y2) in zip(
            labels, detections.confidence.tolist(), detections.xyxy.tolist(), strict=True
        )
    ]


def read_bgr(path: Path) -> NDArray[np.uint8]:
    """An image file as BGR uint8, or DatasetError naming it."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"{path}: not a readable image")
    result: NDArray[np.uint8] = image.astype(np.uint8, copy=False)
    return result


def predict_images(
    detector: Detector,
    items: Sequence[LabelledImage],
    *,
    progress: ProgressCallback | None = None,
) -> list[list[Prediction]]:
    """The detector's predictions on every image (read as BGR), in the order of items."""
    result = []
    for done, item in enumerate(items, start=1):
        result.append(predictions_of(detector.detect(read_bgr(item.image))))
        if progress is not None:
            progress(done, len(items))
    return result


def _labels_to_report(
    detector: Detector,
    items: Sequence[LabelledImage],
    data_name: str,
    classes: Sequence[str] | None,
) -> list[str]:
    if not items:
        raise DatasetError(f"{data_name}: no labelled images found")
    unknown = [name for name in classes or () if name not in detector.class_names]
    if unknown:
        raise DatasetError(
            f"classes {', '.join(unknown)} are not classes of the model "
            f"({', '.join(detector.class_names)})"
        )
    truth_labels = {truth.label for item in items for truth in item.truths}
    labels = list(classes) if classes else [n for n in detector.class_names if n in truth_labels]
    if not labels:
        raise DatasetError(
            f"{data_name}: none of the ground-truth classes ({', '.join(sorted(truth_labels))}) "
            f"is a class of the model ({', '.join(detector.class_names)})"
        )
    return labels


def evaluate_image_set(
    detector: Detector,
    items: Sequence[LabelledImage],
    *,
    data_name: str,
    confidences: Sequence[float] = (0.5,),
    min_size_px: float = 0.0,
    iou_threshold: float = 0.5,
    classes: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> list[ImageSetReport]:
    """Per-class metrics of the detector on a labelled set, one report per confidence threshold
    (the detector's own threshold must be low, e.g. PREDICT_CONFIDENCE, for a meaningful AP50)."""
    labels = _labels_to_report(detector, items, data_name, classes)
    predictions = predict_images(detector, items, progress=progress)
    reports = []
    pairs = [(item.truths, preds) for item, preds in zip(items, predictions, strict=True)]
    for confidence in confidences:
        metrics = evaluate_detections(
            pairs,
            labels=labels,
            iou_threshold=iou_threshold,
            min_size_px=min_size_px,
            confidence_threshold=confidence,
        )
        reports.append(
            ImageSetReport(
                data=data_name,
                images=len(items),
                confidence=confidence,
                min_size_px=min_size_px,
                iou_threshold=iou_threshold,
                classes=tuple(metrics[label] for label in labels),
                size_recall=recall_by_size(
                    pairs,
                    labels=labels,
                    confidence_threshold=confidence,
                    iou_threshold=iou_threshold,
                ),
                confusion=confusion(
                    pairs,
                    labels=labels,
                    confidence_threshold=confidence,
                    iou_threshold=iou_threshold,
                    min_size_px=min_size_px,
                ),
            )
        )
    return reports


def evaluate_data(
    model: Path,
    data: Path,
    *,
    split: str = "val",
    confidences: Sequence[float] = (0.5,),
    min_size_px: float = 0.0,
    classes: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> list[ImageSetReport]:
    """evaluate_image_set for an ONNX model file and a data path (data.yaml, YOLO or VOC folder)."""
    from detector.onnx import OnnxDetector

    detector = OnnxDetector(model, confidence_threshold=PREDICT_CONFIDENCE)
    items = load_labelled_images(data, split=split, names=detector.class_names)
    logger.info("evaluating model=%s data=%s images=%d", model, data, len(items))
    return evaluate_image_set(
        detector,
        items,
        data_name=str(data),
        confidences=confidences,
        min_size_px=min_size_px,
        classes=classes,
        progress=progress,
    )


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Fixed-width lines: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in (header, *rows)
    ]


def format_table(report: ImageSetReport) -> str:
    """A fixed-width table: one row per class, then the mean AP50."""
    header = ("class", "truth", "pred", "tp", "fp", "fn", "precision", "recall", "AP50")
    rows = [
        (
            c.label,
            str(c.ground_truth),
            str(c.predictions),
            str(c.true_positives),
            str(c.false_positives),
            str(c.false_negatives),
            _cell(c.precision),
            _cell(c.recall),
            _cell(c.ap50),
        )
        for c in report.classes
    ]
    lines = [
        f"{report.data}: {report.images} images, confidence >= {report.confidence:g}, "
        f"IoU >= {report.iou_threshold:g}, boxes under {report.min_size_px:g} px ignored",
        *format_rows(header, rows),
        f"mean AP50 {_cell(report.mean_ap50)}",
    ]
    return "\n".join(lines)


def size_bin_name(size: SizeRecall) -> str:
    """'<8', '8-12', ..., '>=40' (px, a box's shorter side)."""
    if size.low_px == 0.0:
        return f"<{size.high_px:g}"
    if size.high_px is None:
        return f">={size.low_px:g}"
    return f"{size.low_px:g}-{size.high_px:g}"


def size_recall_rows(
    size_recall: Sequence[SizeRecall],
) -> tuple[list[str], list[tuple[str, ...]]]:
    """(the size bins' names; per class, its name then a cell per bin: 'recall (boxes)', '-' for
    a bin without boxes), for a table of recall by size."""
    bins = list(dict.fromkeys(size_bin_name(s) for s in size_recall))
    cells: dict[str, dict[str, str]] = {}
    for s in size_recall:
        cell = "-" if s.recall is None else f"{s.recall:.2f} ({s.ground_truth})"
        cells.setdefault(s.label, {})[size_bin_name(s)] = cell
    return bins, [(label, *(row.get(b, "-") for b in bins)) for label, row in cells.items()]


def format_size_table(report: ImageSetReport) -> str:
    """Recall per class (rows) and size bin (columns), with each bin's number of boxes."""
    bins, rows = size_recall_rows(report.size_recall)
    return "\n".join(
        [
            f"recall at confidence >= {report.confidence:g} by a box's shorter side in px "
            "(boxes in the bin in brackets; every box counted)",
            *format_rows(("class", *bins), rows),
        ]
    )


def counts_text(pairs: Iterable[tuple[str, int]]) -> str:
    """'food_uncovered 24, person 1', or '-' for none."""
    return ", ".join(f"{label} {count}" for label, count in pairs) or "-"


def format_confusion_table(report: ImageSetReport) -> str:
    """Per class, its missed boxes (fn) and false boxes (fp) by kind (training.confusion)."""
    header = (
        "class",
        "fn",
        "read as",
        "below",
        "neighbour",
        "unseen",
        "fp",
        "on class",
        "on found",
        "background",
    )
    rows = [
        (
            c.label,
            str(c.missed),
            counts_text(c.read_as),
            str(c.below_threshold),
            str(c.lost_to_neighbour),
            str(c.unseen),
            str(c.false_boxes),
            counts_text(c.on_class),
            str(c.on_found),
            str(c.on_background),
        )
        for c in report.confusion
    ]
    return "\n".join(
        [
            f"errors at confidence >= {report.confidence:g}, IoU >= {report.iou_threshold:g}. "
            "A missed box (fn) was read as another class, found only below the threshold, lost "
            "to a neighbour's box, or unseen; a false box (fp) lay on another class's box, on a "
            "box already found, or on background",
            *format_rows(header, rows),
        ]
    )
