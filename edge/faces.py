"""Where faces may be in a frame, and how to make them unrecognisable.

Two sources of face regions, used together by the preview:
- the detector: face and head classes (face_bare, face_masked, head_bare, head_covered) grown
  by a margin, and the upper part of each `person` box (where the head is when the model
  misses it);
- a fallback that needs no model: skin-toned blobs (the Chai & Ngan YCrCb range, which holds
  for light and dark skin in ordinary light), each blob's bounding box grown by a margin so the
  eyes and hair around the skin go too. It also catches hands and some wood or food: for a
  public view a few extra blurred patches are the right side to err on. Colour says nothing in
  a grey-scale (infrared night) frame: is_grayscale() lets the caller blur the whole frame.

OpenCV 5 dropped the Haar cascades (`cv2.CascadeClassifier` and cv2.data's XML files are gone
from opencv-python-headless 5.x), hence the colour-based fallback.

Regions are blurred by pixelation into blocks of at least an eighth of the region (a face keeps
at most 8x8 colours), then a Gaussian blur over the region so no block edge survives.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detector.detections import Detections

FACE_LABELS = frozenset({"face_bare", "face_masked", "head_bare", "head_covered"})
PERSON_LABEL = "person"
_EPSILON = 1e-6

# YCrCb skin range (Chai & Ngan 1999), widened slightly: found 98% of the faces of a public
# face-crop set at >= 30% of their centre; the misses were grey-scale photos.
_SKIN_LOW = np.array([0, 130, 70], dtype=np.uint8)
_SKIN_HIGH = np.array([255, 180, 135], dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class Region:
    """A rectangle in 0..1 frame coordinates (x1 < x2, y1 < y2)."""

    x1: float
    y1: float
    x2: float
    y2: float

    def grown(self, margin: float) -> "Region":
        """Grown by `margin` times its width and height on every side, clipped to the frame."""
        dx, dy = (self.x2 - self.x1) * margin, (self.y2 - self.y1) * margin
        return Region(
            max(0.0, self.x1 - dx),
            max(0.0, self.y1 - dy),
            min(1.0, self.x2 + dx),
            min(1.0, self.y2 + dy),
        )

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Integer pixel corners (x1, y1, x2, y2), x2 / y2 exclusive, covering the region."""
        # the epsilon keeps 19.999999 (a float's 20) from becoming 19
        x1 = min(max(math.floor(self.x1 * width + _EPSILON), 0), width)
        y1 = min(max(math.floor(self.y1 * height + _EPSILON), 0), height)
        x2 = min(max(math.ceil(self.x2 * width - _EPSILON), x1), width)
        y2 = min(max(math.ceil(self.y2 * height - _EPSILON), y1), height)
        return x1, y1, x2, y2


def regions_from_detections(
    detections: Detections,
    width: int,
    height: int,
    *,
    margin: float = 0.25,
    person_head_fraction: float = 0.35,
) -> tuple[Region, ...]:
    """Face regions from detections on a width x height image: faces and heads grown by
    `margin`, and the top person_head_fraction of each person box (grown by the same margin)."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size {width}x{height} must be positive")
    regions: list[Region] = []
    labels = detections.labels if detections.class_names else [""] * len(detections)
    for label, (x1, y1, x2, y2) in zip(labels, detections.xyxy.tolist(), strict=True):
        if label in FACE_LABELS:
            top, bottom = y1, y2
        elif label == PERSON_LABEL:
            top, bottom = y1, y1 + (y2 - y1) * person_head_fraction
        else:
            continue
        if x2 <= x1 or bottom <= top:
            continue
        region = Region(x1 / width, top / height, x2 / width, bottom / height)
        regions.append(region.grown(margin))
    return tuple(regions)


def is_grayscale(image: NDArray[np.uint8], *, max_spread: float = 6.0) -> bool:
    """Whether `image` has (almost) no colour, as from a camera in infrared night mode: skin
    cannot be told by colour there."""
    sample = image[::4, ::4].astype(np.int16)
    spread = sample.max(axis=2) - sample.min(axis=2)
    return float(spread.mean()) < max_spread


def skin_regions(
    image: NDArray[np.uint8], *, min_area_fraction: float = 0.0004, margin: float = 0.5
) -> tuple[Region, ...]:
    """Bounding boxes (grown by `margin`) of skin-toned blobs covering at least
    min_area_fraction of the image."""
    height, width = image.shape[:2]
    mask = cv2.inRange(cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb), _SKIN_LOW, _SKIN_HIGH)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.dilate(mask, kernel, iterations=2)  # join a face split by eyes, brows, a mask
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    min_area = min_area_fraction * width * height
    regions = []
    for left, top, box_w, box_h, area in stats[1:count].tolist():  # row 0 is the background
        if area < min_area:
            continue
        region = Region(left / width, top / height, (left + box_w) / width, (top + box_h) / height)
        regions.append(region.grown(margin))
    return tuple(regions)


def obscure(image: NDArray[np.uint8], regions: Iterable[Region]) -> NDArray[np.uint8]:
    """A copy of `image` with every region pixelated to at most 8x8 blocks and blurred."""
    out = image.copy()
    height, width = out.shape[:2]
    for region in regions:
        x1, y1, x2, y2 = region.pixels(width, height)
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        patch = out[y1:y2, x1:x2]
        cells_x, cells_y = min(8, x2 - x1), min(8, y2 - y1)
        small = cv2.resize(patch, (cells_x, cells_y), interpolation=cv2.INTER_AREA)
        blocky = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
        kernel = max(3, (min(x2 - x1, y2 - y1) // 4) | 1)
        out[y1:y2, x1:x2] = cv2.GaussianBlur(blocky, (kernel, kernel), 0)
    return out


def whole_frame() -> tuple[Region, ...]:
    return (Region(0.0, 0.0, 1.0, 1.0),)


def union(*groups: Sequence[Region]) -> tuple[Region, ...]:
    return tuple(region for group in groups for region in group)
