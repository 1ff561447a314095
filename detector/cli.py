"""The `detect` command: run a model on image files and print what it finds."""

import json
import sys
from pathlib import Path
from typing import TypedDict

import cv2
import numpy as np
from numpy.typing import NDArray

from detector.detections import Detections
from detector.errors import ModelError
from detector.onnx import OnnxDetector

EXIT_OK = 0
EXIT_UNREADABLE_IMAGE = 1
EXIT_BAD_MODEL = 2


class DetectionRecord(TypedDict):
    label: str
    confidence: float
    xyxy: list[float]  # pixels of the image: x1, y1, x2, y2


def run_detect(model: Path, images: list[Path], *, as_json: bool, confidence: float) -> int:
    """Print the detections of each image; 1 if an image is unreadable, 2 if the model is unusable.

    With as_json, stdout gets one JSON object: image path (as given) -> list of DetectionRecord.
    Images that cannot be read are left out of it and named on stderr.
    """
    try:
        detector = OnnxDetector(model, confidence_threshold=confidence)
    except (ModelError, ValueError) as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_BAD_MODEL
    results: dict[str, list[DetectionRecord]] = {}
    status = EXIT_OK
    for path in images:
        image = _read_image(path)
        if isinstance(image, str):
            sys.stderr.write(f"error: cannot read image {path}: {image}\n")
            status = EXIT_UNREADABLE_IMAGE
            continue
        results[str(path)] = _records(detector.detect(image))
    sys.stdout.write(json.dumps(results) + "\n" if as_json else _table(results))
    return status


def _read_image(path: Path) -> NDArray[np.uint8] | str:
    """The image as BGR, or why it cannot be read (imdecode stays silent, unlike imread)."""
    try:
        data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    except OSError as err:
        return err.strerror or type(err).__name__
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        return "not an image format OpenCV can decode"
    return np.asarray(image, dtype=np.uint8)


def _records(detections: Detections) -> list[DetectionRecord]:
    return [
        DetectionRecord(
            label=label,
            confidence=round(float(score), 4),
            xyxy=[round(float(v), 2) for v in box],
        )
        for label, score, box in zip(
            detections.labels, detections.confidence, detections.xyxy, strict=True
        )
    ]


def _table(results: dict[str, list[DetectionRecord]]) -> str:
    rows: list[tuple[str, ...]] = [("IMAGE", "LABEL", "CONFIDENCE", "X1", "Y1", "X2", "Y2")]
    for path, records in results.items():
        if not records:
            rows.append((path, "-", "", "", "", "", ""))
        for record in records:
            x1, y1, x2, y2 = record["xyxy"]
            rows.append(
                (
                    path,
                    record["label"],
                    f"{record['confidence']:.3f}",
                    *(f"{v:.1f}" for v in (x1, y1, x2, y2)),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in rows
    )
