"""Scenario evaluation: scenario videos through the detector and the edge's rules, events vs truth.

A scenario folder holds <name>.mp4 and <name>.json pairs written by render_scenario (scenes).
Every video is decoded and sampled at detect_fps (as an edge camera is); each sampled frame goes
through the detector, and the detections through the edge's kitchen rule engine with its default
rules (training.scenario_rules: no_hat <- head_bare per person, no_mask <- face_bare per person,
rodent <- rodent (never a cat), uncovered_food <- food_uncovered per container). Every incident
is a predicted event from its start to its end; training.metrics' match_events compares them with
the ground-truth events (kind and camera agree, times overlap).

The detector sees the frame either whole (letterboxed down to the model's input) or in tiles of the
model's input size at the frame's own resolution (TiledDetector), the way an edge that crops motion
regions at the model's input size sees small heads and faces.
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from detector.detections import Detections, Detector
from scenes.scenario import read_events
from scenes.timeline import VIOLATION_KINDS, ScenarioEvent
from training.errors import DatasetError
from training.evaluate import format_rows
from training.metrics import EventMetrics, match_events
from training.scenario_rules import TimedDetections, incidents_of

logger = logging.getLogger(__name__)

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # scenario time 0


def _nms(xyxy: NDArray[np.float32], scores: NDArray[np.float32], iou_threshold: float) -> list[int]:
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    areas = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        ix = np.clip(
            np.minimum(xyxy[best, 2], xyxy[rest, 2]) - np.maximum(xyxy[best, 0], xyxy[rest, 0]),
            0,
            None,
        )
        iy = np.clip(
            np.minimum(xyxy[best, 3], xyxy[rest, 3]) - np.maximum(xyxy[best, 1], xyxy[rest, 1]),
            0,
            None,
        )
        inter = ix * iy
        union = areas[best] + areas[rest] - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
        order = rest[overlap < iou_threshold]
    return keep


def tile_origins(length: int, tile: int, overlap: int = 0) -> list[int]:
    """Evenly spaced tile starts covering 0..length with tiles of `tile` px that overlap by at
    least `overlap` px (an object no larger than the overlap lies whole in some tile)."""
    if length <= tile:
        return [0]
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in 0..{tile - 1}, got {overlap}")
    count = math.ceil((length - overlap) / (tile - overlap))
    step = (length - tile) / (count - 1)
    return [round(i * step) for i in range(count)]


class TiledDetector:
    """Runs a detector on overlapping tiles of its input size at the frame's resolution and
    merges the boxes (per-class NMS); a frame no larger than the input is detected whole.

    Tiles overlap by `overlap` px (default a quarter of the tile: 80 px at 320, more than the
    largest head or face of a 640 px frame). A box cut by a tile's inner edge is dropped when it is
    smaller than the overlap across that edge, because a neighbouring tile holds the whole object;
    without that, a worker standing on a tile border was seen as two half-people with half-faces.
    """

    def __init__(
        self,
        detector: Detector,
        tile_hw: tuple[int, int],
        iou_threshold: float = 0.5,
        overlap: int | None = None,
    ):
        self._detector = detector
        self._tile_hw = tile_hw
        self._iou_threshold = iou_threshold
        self._overlap = min(tile_hw) // 4 if overlap is None else overlap

    @property
    def class_names(self) -> tuple[str, ...]:
        return self._detector.class_names

    def _whole(self, found: Detections, x: int, y: int, width: int, height: int) -> Detections:
        """found (tile pixels) without the small boxes cut by an inner edge of the tile at x, y."""
        tile_h, tile_w = self._tile_hw
        inner = (x > 0, y > 0, x + tile_w < width, y + tile_h < height)  # left, top, right, bottom
        x1, y1, x2, y2 = (found.xyxy[:, i] for i in range(4))
        small_w, small_h = (x2 - x1) < self._overlap, (y2 - y1) < self._overlap
        margin = 2.0
        cut = (
            (inner[0] & (x1 <= margin) & small_w)
            | (inner[1] & (y1 <= margin) & small_h)
            | (inner[2] & (x2 >= tile_w - margin) & small_w)
            | (inner[3] & (y2 >= tile_h - margin) & small_h)
        )
        keep = ~cut
        return Detections(
            xyxy=found.xyxy[keep],
            confidence=found.confidence[keep],
            class_id=found.class_id[keep],
            class_names=found.class_names,
        )

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        height, width = image.shape[:2]
        tile_h, tile_w = self._tile_hw
        parts: list[Detections] = []
        offsets: list[tuple[int, int]] = []
        for y in tile_origins(height, tile_h, self._overlap):
            for x in tile_origins(width, tile_w, self._overlap):
                crop = np.ascontiguousarray(image[y : y + tile_h, x : x + tile_w])
                parts.append(self._whole(self._detector.detect(crop), x, y, width, height))
                offsets.append((x, y))
        if len(parts) == 1:
            return parts[0]
        xyxy = np.concatenate(
            [
                p.xyxy + np.array([x, y, x, y], np.float32)
                for p, (x, y) in zip(parts, offsets, strict=True)
            ]
        ).astype(np.float32)
        confidence = np.concatenate([p.confidence for p in parts]).astype(np.float32)
        class_id = np.concatenate([p.class_id for p in parts]).astype(np.int64)
        keep: list[int] = []
        for cls in np.unique(class_id):
            index = np.nonzero(class_id == cls)[0]
            keep.extend(
                int(index[i]) for i in _nms(xyxy[index], confidence[index], self._iou_threshold)
            )
        chosen = np.array(sorted(keep, key=lambda i: -confidence[i]), dtype=np.int64)
        return Detections(
            xyxy=xyxy[chosen],
            confidence=confidence[chosen],
            class_id=class_id[chosen],
            class_names=self.class_names,
        )


@dataclass(frozen=True, slots=True)
class VideoResult:
    name: str
    truth: tuple[ScenarioEvent, ...]
    predicted: tuple[ScenarioEvent, ...]
    frames: int


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    folder: str
    confidence: float
    detect_fps: float
    tiled: bool
    tolerance_s: float
    videos: tuple[VideoResult, ...]
    kinds: tuple[EventMetrics, ...]

    def to_dict(self) -> dict[str, object]:
        document = asdict(self)
        document["kinds"] = {k.kind: asdict(k) for k in self.kinds}
        return document


def detect_video(video: Path, detector: Detector, *, detect_fps: float) -> list[TimedDetections]:
    """The detections of the frames an edge sampling detect_fps frames per second would take,
    timed from _EPOCH by the frames' presentation times."""
    sampled: list[TimedDetections] = []
    next_t = 0.0
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            for index, decoded in enumerate(container.decode(stream)):
                t_s = float(decoded.time) if decoded.time is not None else index / detect_fps
                if t_s + 1e-6 < next_t:
                    continue
                next_t += 1.0 / detect_fps
                image: NDArray[np.uint8] = decoded.to_ndarray(format="bgr24").astype(
                    np.uint8, copy=False
                )
                sampled.append(
                    TimedDetections(
                        _EPOCH + timedelta(seconds=t_s),
                        detector.detect(image),
                        width=int(image.shape[1]),
                        height=int(image.shape[0]),
                    )
                )
    except av.error.FFmpegError as err:
        raise DatasetError(f"{video}: cannot decode ({err})") from err
    return sampled


def _camera_of(truth_path: Path) -> str:
    try:
        return str(json.loads(truth_path.read_text()).get("camera", "cam-1"))
    except (OSError, ValueError, AttributeError) as err:
        raise DatasetError(f"{truth_path}: not a scenario ground truth ({err})") from err


def scenario_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(video, truth) pairs of a scenario folder, sorted by name; errors name what is missing."""
    if not folder.is_dir():
        raise DatasetError(f"scenario folder {folder} does not exist")
    pairs = []
    for video in sorted(folder.glob("*.mp4")):
        truth = video.with_suffix(".json")
        if not truth.is_file():
            raise DatasetError(f"{video}: no ground truth {truth.name} beside it")
        pairs.append((video, truth))
    if not pairs:
        raise DatasetError(f"{folder}: no scenario videos (*.mp4 with a .json beside each)")
    return pairs


def evaluate_scenarios(
    detector: Detector,
    folder: Path,
    *,
    confidences: Sequence[float] = (0.5,),
    detect_fps: float = 5.0,
    tiled: bool,
    tolerance_s: float = 0.5,
    progress: Callable[[int, int], None] | None = None,
) -> list[ScenarioReport]:
    """One report per confidence (the rules' min_confidence); the detector runs once per frame,
    so its own threshold must be at most the lowest of them."""
    pairs = scenario_pairs(folder)
    videos = []
    for done, (video, truth_path) in enumerate(pairs, start=1):
        truth = read_events(truth_path)
        camera = _camera_of(truth_path)
        sampled = detect_video(video, detector, detect_fps=detect_fps)
        videos.append((video.stem, camera, truth, sampled))
        if progress is not None:
            progress(done, len(pairs))
    reports = []
    for confidence in confidences:
        results = tuple(
            VideoResult(
                name,
                truth,
                incidents_of(
                    sampled,
                    camera_id=camera,
                    min_confidence=confidence,
                    detect_fps=detect_fps,
                    epoch=_EPOCH,
                ),
                len(sampled),
            )
            for name, camera, truth, sampled in videos
        )
        metrics = match_events(
            ((r.truth, r.predicted) for r in results),
            kinds=VIOLATION_KINDS,
            tolerance_s=tolerance_s,
        )
        reports.append(
            ScenarioReport(
                folder=str(folder),
                confidence=confidence,
                detect_fps=detect_fps,
                tiled=tiled,
                tolerance_s=tolerance_s,
                videos=results,
                kinds=tuple(metrics[kind] for kind in VIOLATION_KINDS),
            )
        )
    return reports


def evaluate_scenario_folder(
    model: Path,
    folder: Path,
    *,
    confidences: Sequence[float] = (0.5,),
    detect_fps: float = 5.0,
    tiled: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[ScenarioReport]:
    """evaluate_scenarios for an ONNX model file (tiles of its input size when tiled)."""
    from detector.onnx import OnnxDetector

    if not confidences:
        raise DatasetError("confidences must name at least one threshold")
    onnx_detector = OnnxDetector(model, confidence_threshold=min(confidences))
    detector: Detector = (
        TiledDetector(onnx_detector, onnx_detector.input_size) if tiled else onnx_detector
    )
    return evaluate_scenarios(
        detector,
        folder,
        confidences=confidences,
        detect_fps=detect_fps,
        tiled=tiled,
        progress=progress,
    )


def format_scenario_table(report: ScenarioReport) -> str:
    seen = "tiles of the model input" if report.tiled else "whole frames"
    lines = [
        f"{report.folder}: {len(report.videos)} videos, {report.detect_fps:g} detections/s, "
        f"confidence >= {report.confidence:g}, {seen}"
    ]
    for video in report.videos:
        shown = (
            ", ".join(f"{e.kind} {e.start_s:.1f}-{e.end_s:.1f}s" for e in video.predicted) or "none"
        )
        truth = ", ".join(f"{e.kind} {e.start_s:.1f}-{e.end_s:.1f}s" for e in video.truth) or "none"
        lines.append(f"  {video.name}: truth [{truth}] predicted [{shown}]")
    header = ("kind", "truth", "predicted", "matched", "correct", "precision", "recall")
    rows = [
        (
            k.kind,
            str(k.truth),
            str(k.predicted),
            str(k.matched_truth),
            str(k.correct_predictions),
            "-" if k.precision is None else f"{k.precision:.3f}",
            "-" if k.recall is None else f"{k.recall:.3f}",
        )
        for k in report.kinds
    ]
    lines.extend(format_rows(header, rows))
    return "\n".join(lines)
