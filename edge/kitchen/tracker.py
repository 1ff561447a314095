"""IouTracker: stable ids for boxes across frames, ByteTrack-style two-stage association.

Each update takes the boxes and confidences of one frame (pixels) and the frame's time:
1. Tracks not seen for longer than max_age_s are dropped; the others are moved to where their
   smoothed velocity predicts them now, so a rodent that ran a body length between two frames at
   5 fps is still found.
2. Confident detections (>= high_confidence) are matched first, greedily by score: IoU with the
   predicted box when it reaches min_iou, else a lower score that falls with the distance between
   centres, accepted up to centre_gate track diagonals (a small fast target rarely overlaps itself).
3. Weak detections (low_confidence .. high_confidence) only extend the tracks still unmatched, by
   IoU alone: a person half hidden behind a shelf keeps their id, but a weak box never starts a
   track (ByteTrack's point: low scores are trusted only where a track already is).
4. Unmatched confident detections start new tracks; ids come from an iterator so several trackers
   of one camera can share one id space. Ids are never reused.
Time is the frames' captured_at, never the wall clock.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from edge.kitchen.boxes import FloatArray, as_boxes, centres, diagonals, iou_matrix

_SMOOTHING = 0.5  # weight of the newest velocity measurement


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    high_confidence: float = 0.4
    low_confidence: float = 0.1
    min_iou: float = 0.2
    centre_gate: float = 1.0  # in diagonals of the track's box
    max_age_s: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.low_confidence <= self.high_confidence <= 1.0:
            raise ValueError("need 0 <= low_confidence <= high_confidence <= 1")
        if not 0.0 < self.min_iou <= 1.0 or self.centre_gate < 0.0 or self.max_age_s <= 0.0:
            raise ValueError("need 0 < min_iou <= 1, centre_gate >= 0 and max_age_s > 0")


@dataclass(frozen=True, slots=True)
class Track:
    """A track as it stands after the latest update."""

    track_id: int
    xyxy: tuple[float, float, float, float]  # pixels, the last matched box
    confidence: float  # of the last matched detection
    first_seen_at: datetime
    last_seen_at: datetime
    hits: int


@dataclass(slots=True)
class _State:
    track_id: int
    box: FloatArray  # (4,)
    velocity: FloatArray  # (2,) pixels per second of the centre
    confidence: float
    first_seen_at: datetime
    last_seen_at: datetime
    hits: int = 1


def greedy_pairs(score: FloatArray, valid: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Pairs (row, column) taken best score first, each row and column at most once."""
    rows, columns = np.nonzero(valid)
    order = np.argsort(-score[rows, columns], kind="stable")
    used_rows: set[int] = set()
    used_columns: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for row, column in zip(rows[order].tolist(), columns[order].tolist(), strict=True):
        if row in used_rows or column in used_columns:
            continue
        used_rows.add(row)
        used_columns.add(column)
        pairs.append((row, column))
    return pairs


class IouTracker:
    def __init__(
        self, settings: TrackerSettings | None = None, ids: Iterator[int] | None = None
    ) -> None:
        self.settings = settings or TrackerSettings()
        self._ids = itertools.count(1) if ids is None else ids
        self._tracks: list[_State] = []

    def __len__(self) -> int:
        return len(self._tracks)

    @property
    def tracks(self) -> tuple[Track, ...]:
        return tuple(
            Track(
                track_id=state.track_id,
                xyxy=(
                    float(state.box[0]),
                    float(state.box[1]),
                    float(state.box[2]),
                    float(state.box[3]),
                ),
                confidence=state.confidence,
                first_seen_at=state.first_seen_at,
                last_seen_at=state.last_seen_at,
                hits=state.hits,
            )
            for state in self._tracks
        )

    def reset(self) -> None:
        self._tracks = []

    def prune(self, now: datetime) -> None:
        """Drop the tracks not seen for longer than max_age_s before `now`."""
        max_age_s = self.settings.max_age_s
        self._tracks = [
            state
            for state in self._tracks
            if (now - state.last_seen_at).total_seconds() <= max_age_s
        ]

    def update(
        self, xyxy: NDArray[np.floating], confidence: NDArray[np.floating], now: datetime
    ) -> NDArray[np.int64]:
        """Track one frame's boxes; return each box's track id, -1 for a weak box left unmatched."""
        boxes = as_boxes(xyxy)
        scores = np.asarray(confidence, dtype=np.float64).reshape(-1)
        if scores.shape[0] != boxes.shape[0]:
            raise ValueError(f"{boxes.shape[0]} boxes but {scores.shape[0]} confidences")
        self.prune(now)
        if boxes.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        settings = self.settings
        ids = np.full(boxes.shape[0], -1, dtype=np.int64)
        strong = np.flatnonzero(scores >= settings.high_confidence)
        weak = np.flatnonzero(
            (scores >= settings.low_confidence) & (scores < settings.high_confidence)
        )
        predicted = self._predicted(now)
        free_tracks = np.arange(len(self._tracks))

        for stage_detections, with_centres in ((strong, True), (weak, False)):
            if stage_detections.size == 0 or free_tracks.size == 0:
                continue
            score, valid = self._similarity(
                boxes[stage_detections], predicted[free_tracks], with_centres=with_centres
            )
            matched: set[int] = set()
            for row, column in greedy_pairs(score, valid):
                detection = int(stage_detections[row])
                track_index = int(free_tracks[column])
                self._extend(self._tracks[track_index], boxes[detection], scores[detection], now)
                ids[detection] = self._tracks[track_index].track_id
                matched.add(track_index)
            free_tracks = np.array([t for t in free_tracks.tolist() if t not in matched], dtype=int)

        for detection in strong.tolist():
            if ids[detection] == -1:
                state = _State(
                    track_id=next(self._ids),
                    box=boxes[detection].copy(),
                    velocity=np.zeros(2, dtype=np.float64),
                    confidence=float(scores[detection]),
                    first_seen_at=now,
                    last_seen_at=now,
                )
                self._tracks.append(state)
                ids[detection] = state.track_id
        return ids

    def _predicted(self, now: datetime) -> FloatArray:
        if not self._tracks:
            return np.zeros((0, 4), dtype=np.float64)
        boxes = np.stack([state.box for state in self._tracks])
        velocity = np.stack([state.velocity for state in self._tracks])
        elapsed_s = np.array(
            [max(0.0, (now - state.last_seen_at).total_seconds()) for state in self._tracks]
        )
        shift = velocity * np.minimum(elapsed_s, self.settings.max_age_s)[:, np.newaxis]
        result: FloatArray = boxes + np.concatenate([shift, shift], axis=1)
        return result

    def _similarity(
        self, detections: FloatArray, tracks: FloatArray, *, with_centres: bool
    ) -> tuple[FloatArray, NDArray[np.bool_]]:
        settings = self.settings
        iou = iou_matrix(detections, tracks)
        valid: NDArray[np.bool_] = iou >= settings.min_iou
        score = iou
        if with_centres and settings.centre_gate > 0.0:
            reach = np.maximum(diagonals(tracks), 1.0) * settings.centre_gate
            distance = np.linalg.norm(
                centres(detections)[:, np.newaxis, :] - centres(tracks)[np.newaxis, :, :], axis=2
            )
            near = (distance < reach[np.newaxis, :]) & ~valid
            # always below any IoU match, and the nearer the better
            fallback = settings.min_iou * 0.99 * (1.0 - distance / reach[np.newaxis, :])
            score = np.where(near, fallback, iou)
            valid = valid | near
        return score, valid

    def _extend(self, state: _State, box: FloatArray, confidence: float, now: datetime) -> None:
        elapsed_s = (now - state.last_seen_at).total_seconds()
        if elapsed_s > 0.0:
            measured = (centres(box[np.newaxis, :])[0] - centres(state.box[np.newaxis, :])[0]) / (
                elapsed_s
            )
            state.velocity = _SMOOTHING * measured + (1.0 - _SMOOTHING) * state.velocity
        state.box = box.copy()
        state.confidence = float(confidence)
        state.last_seen_at = now
        state.hits += 1
