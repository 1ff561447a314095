"""The tracked scene of one camera frame: people with their head and face, rodents, food containers.

SceneTracker turns one frame's Detections into a Scene that the rules read:
- Labels map the model's class names to roles (defaults: the kitchen model's CLASS_NAMES).
- People are tracked; each head box (head_covered / head_bare, one box per head after a
  cross-class NMS that also drops a box nested in another) is attached to the person box that
  holds most of it (>= PART_COVER), one head per person, and likewise each face box
  (face_masked / face_bare). A person's identity thus survives turning away: the head or face is
  then simply not seen (the rules read it as uncertain).
- Heads and faces with no person around them (a close camera that sees shoulders up) are tracked
  on their own and become subjects too.
- Rodents: optional motion support first (a weak rodent box near a small moving blob gets a
  boost), then tracking; the frame's cat boxes come along for the rodent rule.
- Food containers (food_covered / food_uncovered, one box per container) are tracked class-blind,
  so putting a lid on keeps the container's track.
All trackers of a camera share one id space.
"""

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from pydantic import ConfigDict, with_config

from detector.detections import Detections
from edge.kitchen.boxes import FloatArray, areas, as_boxes, cover_matrix, intersections, iou_matrix
from edge.kitchen.tracker import IouTracker, TrackerSettings, greedy_pairs

PART_COVER = 0.6  # a head or face belongs to a person when this much of it lies in the person box
DUPLICATE_IOU = 0.6  # two boxes of twin classes (covered / bare) this similar are one object
# a head or face box lying this much inside another of its kind is that same head or face: under a
# chef's toque the head box is twice as tall as the head, and the model may also box the face part
# below the hat as a bare head (IoU about 0.35 with the hat's box, so the IoU test keeps both)
NESTED_COVER = 0.8


class Role(StrEnum):
    PERSON = "person"
    HEAD_COVERED = "head_covered"
    HEAD_BARE = "head_bare"
    FACE_MASKED = "face_masked"
    FACE_BARE = "face_bare"
    RODENT = "rodent"
    CAT = "cat"
    FOOD_COVERED = "food_covered"
    FOOD_UNCOVERED = "food_uncovered"


class SubjectSource(StrEnum):
    PERSON = "person"
    HEAD = "head"  # a head seen with no person box around it
    FACE = "face"


@dataclass(frozen=True, slots=True)
class Part:
    """A head or face box seen on a subject in this frame."""

    role: Role
    label: str
    confidence: float
    xyxy: FloatArray  # (4,) pixels


@dataclass(frozen=True, slots=True)
class Subject:
    """A tracked person (or a lone head or face) seen in this frame."""

    track_id: int
    source: SubjectSource
    xyxy: FloatArray  # (4,) pixels
    head: Part | None
    face: Part | None


@dataclass(frozen=True, slots=True)
class Sighting:
    """A tracked rodent or food container seen in this frame."""

    track_id: int
    role: Role
    label: str
    confidence: float  # rodents: after any motion boost
    xyxy: FloatArray  # (4,) pixels


@dataclass(frozen=True, slots=True)
class Scene:
    at: datetime
    width: int
    height: int
    subjects: tuple[Subject, ...] = ()
    rodents: tuple[Sighting, ...] = ()
    cats: FloatArray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.float64))
    food: tuple[Sighting, ...] = ()


@dataclass(frozen=True, slots=True)
class MotionSupport:
    """A weak rodent box (>= min_confidence) touching a small moving blob gains `boost`."""

    min_confidence: float = 0.25
    boost: float = 0.15
    max_blob_fraction: float = 0.01  # of the frame area: larger blobs are people, not rodents


@with_config(ConfigDict(extra="forbid"))  # also the `kitchen.labels` config section, as is
@dataclass(frozen=True, slots=True)
class Labels:
    """The model's class name for each role (defaults: the kitchen model's classes)."""

    person: str = "person"
    head_covered: str = "head_covered"
    head_bare: str = "head_bare"
    face_masked: str = "face_masked"
    face_bare: str = "face_bare"
    rodent: str = "rodent"
    cat: str = "cat"
    food_covered: str = "food_covered"
    food_uncovered: str = "food_uncovered"

    def roles(self, class_names: tuple[str, ...]) -> NDArray[np.int64]:
        """Per class id, the index of its role in Role, or -1 for classes no rule uses."""
        by_name = {getattr(self, role.value): index for index, role in enumerate(Role)}
        return np.array([by_name.get(name, -1) for name in class_names], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class TrackingSettings:
    people: TrackerSettings = field(
        default_factory=lambda: TrackerSettings(max_age_s=2.0, centre_gate=0.5)
    )
    rodents: TrackerSettings = field(
        default_factory=lambda: TrackerSettings(max_age_s=1.5, centre_gate=2.0)
    )
    food: TrackerSettings = field(
        default_factory=lambda: TrackerSettings(max_age_s=30.0, min_iou=0.3, centre_gate=0.5)
    )


_ROLES = tuple(Role)
_ROLE_INDEX = {role: index for index, role in enumerate(_ROLES)}


def _nms(
    boxes: FloatArray, scores: NDArray[np.float64], *, nested: bool = False
) -> NDArray[np.int64]:
    """Indices kept by an NMS at DUPLICATE_IOU, most confident first; with `nested`, a box that
    lies NESTED_COVER inside a kept box, or holds one that much, is a duplicate too."""
    if scores.shape[0] <= 1:
        return np.arange(scores.shape[0], dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    duplicate = iou_matrix(boxes, boxes) > DUPLICATE_IOU
    if nested:
        cover = cover_matrix(boxes, boxes)
        duplicate |= (cover >= NESTED_COVER) | (cover.T >= NESTED_COVER)
    kept: list[int] = []
    for index in order.tolist():
        if not any(duplicate[index, other] for other in kept):
            kept.append(index)
    return np.array(kept, dtype=np.int64)


class SceneTracker:
    def __init__(
        self,
        labels: Labels | None = None,
        settings: TrackingSettings | None = None,
        motion: MotionSupport | None = None,
    ) -> None:
        self.labels = labels or Labels()
        self.settings = settings or TrackingSettings()
        self.motion = motion
        ids = itertools.count(1)
        self._people = IouTracker(self.settings.people, ids)
        self._heads = IouTracker(self.settings.people, ids)
        self._faces = IouTracker(self.settings.people, ids)
        self._rodents = IouTracker(self.settings.rodents, ids)
        self._food = IouTracker(self.settings.food, ids)
        self._role_cache: dict[tuple[str, ...], NDArray[np.int64]] = {}

    @property
    def has_moving_tracks(self) -> bool:
        """People, lone heads or faces, or rodents are being tracked (food does not move)."""
        return any(
            len(tracker) > 0 for tracker in (self._people, self._heads, self._faces, self._rodents)
        )

    @property
    def has_rodent_tracks(self) -> bool:
        return len(self._rodents) > 0

    def reset(self) -> None:
        for tracker in (self._people, self._heads, self._faces, self._rodents, self._food):
            tracker.reset()

    def prune(self, now: datetime) -> None:
        for tracker in (self._people, self._heads, self._faces, self._rodents, self._food):
            tracker.prune(now)

    def update(
        self,
        at: datetime,
        detections: Detections,
        *,
        width: int,
        height: int,
        motion_xyxy: NDArray[np.floating] | None = None,
    ) -> Scene:
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        roles = self._roles_of(detections)
        boxes = as_boxes(detections.xyxy)
        scores = detections.confidence.astype(np.float64).reshape(-1)

        def pick(*wanted: Role) -> NDArray[np.int64]:
            mask = np.zeros(roles.shape[0], dtype=bool)
            for role in wanted:
                mask |= roles == _ROLE_INDEX[role]
            return np.flatnonzero(mask)

        people = pick(Role.PERSON)
        person_ids = self._people.update(boxes[people], scores[people], at)
        tracked = person_ids >= 0
        people, person_ids = people[tracked], person_ids[tracked]
        heads = self._attach(
            detections, boxes, scores, roles, pick(Role.HEAD_COVERED, Role.HEAD_BARE), people
        )
        faces = self._attach(
            detections, boxes, scores, roles, pick(Role.FACE_MASKED, Role.FACE_BARE), people
        )
        subjects = [
            Subject(
                track_id=int(track_id),
                source=SubjectSource.PERSON,
                xyxy=boxes[person],
                head=heads[0].get(position),
                face=faces[0].get(position),
            )
            for position, (person, track_id) in enumerate(
                zip(people.tolist(), person_ids.tolist(), strict=True)
            )
        ]
        for (_, lone), tracker, source in (
            (heads, self._heads, SubjectSource.HEAD),
            (faces, self._faces, SubjectSource.FACE),
        ):
            subjects.extend(self._lone_subjects(lone, tracker, source, at))
        rodent_candidates = pick(Role.RODENT)
        rodents = self._sightings(
            detections,
            boxes,
            self._boosted(boxes, scores, rodent_candidates, motion_xyxy, width * height),
            rodent_candidates,
            roles,
            self._rodents,
            at,
        )
        food_candidates = pick(Role.FOOD_COVERED, Role.FOOD_UNCOVERED)
        food_candidates = food_candidates[_nms(boxes[food_candidates], scores[food_candidates])]
        food = self._sightings(detections, boxes, scores, food_candidates, roles, self._food, at)
        return Scene(
            at=at,
            width=width,
            height=height,
            subjects=tuple(subjects),
            rodents=rodents,
            cats=boxes[pick(Role.CAT)],
            food=food,
        )

    def _roles_of(self, detections: Detections) -> NDArray[np.int64]:
        table = self._role_cache.get(detections.class_names)
        if table is None:
            table = self._role_cache[detections.class_names] = self.labels.roles(
                detections.class_names
            )
        if len(detections) == 0:
            return np.zeros(0, dtype=np.int64)
        class_ids = detections.class_id.astype(np.int64)
        known = (class_ids >= 0) & (class_ids < table.shape[0])
        result: NDArray[np.int64] = np.where(
            known, table[np.clip(class_ids, 0, max(table.shape[0] - 1, 0))], -1
        )
        return result

    def _attach(
        self,
        detections: Detections,
        boxes: FloatArray,
        scores: NDArray[np.float64],
        roles: NDArray[np.int64],
        candidates: NDArray[np.int64],
        people: NDArray[np.int64],
    ) -> tuple[dict[int, Part], list[Part]]:
        """Parts attached to people (by position in `people`), and the parts with nobody."""
        candidates = candidates[_nms(boxes[candidates], scores[candidates], nested=True)]
        parts = [
            Part(
                role=_ROLES[int(roles[index])],
                label=detections.class_names[int(detections.class_id[index])],
                confidence=float(scores[index]),
                xyxy=boxes[index],
            )
            for index in candidates.tolist()
        ]
        attached: dict[int, Part] = {}
        if parts and people.size:
            person_boxes = boxes[people]
            cover = cover_matrix(boxes[candidates], person_boxes)
            # among people holding the part equally, the tighter box is the better owner
            tightness = areas(person_boxes) / max(float(areas(person_boxes).max()), 1.0)
            for part_index, person_position in greedy_pairs(
                cover - 1e-3 * tightness[np.newaxis, :], cover >= PART_COVER
            ):
                attached[person_position] = parts[part_index]
        owned = {id(part) for part in attached.values()}
        return attached, [part for part in parts if id(part) not in owned]

    def _lone_subjects(
        self, parts: list[Part], tracker: IouTracker, source: SubjectSource, at: datetime
    ) -> list[Subject]:
        if not parts:
            tracker.prune(at)
            return []
        boxes = np.stack([part.xyxy for part in parts])
        ids = tracker.update(boxes, np.array([part.confidence for part in parts]), at)
        return [
            Subject(
                track_id=int(track_id),
                source=source,
                xyxy=part.xyxy,
                head=part if source is SubjectSource.HEAD else None,
                face=part if source is SubjectSource.FACE else None,
            )
            for part, track_id in zip(parts, ids.tolist(), strict=True)
            if track_id >= 0
        ]

    def _boosted(
        self,
        boxes: FloatArray,
        scores: NDArray[np.float64],
        rodents: NDArray[np.int64],
        motion_xyxy: NDArray[np.floating] | None,
        frame_area: int,
    ) -> NDArray[np.float64]:
        support = self.motion
        if support is None or motion_xyxy is None or rodents.size == 0:
            return scores
        blobs = as_boxes(motion_xyxy)
        blobs = blobs[areas(blobs) <= support.max_blob_fraction * frame_area]
        if blobs.shape[0] == 0:
            return scores
        touching = intersections(boxes[rodents], blobs).max(axis=1) > 0.0
        weak = scores[rodents] >= support.min_confidence
        boosted = scores.copy()
        chosen = rodents[touching & weak]
        boosted[chosen] = np.minimum(1.0, boosted[chosen] + support.boost)
        return boosted

    def _sightings(
        self,
        detections: Detections,
        boxes: FloatArray,
        scores: NDArray[np.float64],
        candidates: NDArray[np.int64],
        roles: NDArray[np.int64],
        tracker: IouTracker,
        at: datetime,
    ) -> tuple[Sighting, ...]:
        ids = tracker.update(boxes[candidates], scores[candidates], at)
        return tuple(
            Sighting(
                track_id=int(track_id),
                role=_ROLES[int(roles[index])],
                label=detections.class_names[int(detections.class_id[index])],
                confidence=float(scores[index]),
                xyxy=boxes[index],
            )
            for index, track_id in zip(candidates.tolist(), ids.tolist(), strict=True)
            if track_id >= 0
        )
