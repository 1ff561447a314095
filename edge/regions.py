"""Regions: where in a frame the detector looks, and its detections mapped back to the frame.

A model sees a fixed input (say 320x320): a whole 1080p frame shrunk to it leaves a head 6 px
tall. So, as Frigate does, the detector runs on square crops of the model's input size taken at
the frame's native resolution around what moved and what is being tracked: boxes that fit together
in one crop share it (greedy clustering), a box bigger than a crop gets a crop of its own size
(shrunk by the letterbox), and a crop near an edge slides inside the frame. When the crops would
cover most of the frame, or would be too many, or the frame is hardly bigger than the model's
input, the whole frame is detected instead: one run costs as much as one crop.

Detections from each crop are shifted back by the crop's offset, then merged across crops: per
class NMS, and a box mostly inside a more confident box of another crop (an object cut by a crop's
edge) is dropped.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from detector.detections import Detections, Detector
from detector.postprocess import nms_per_class


class RegionConfig(BaseModel):
    """Crops for the detector; `regions:` in the edge config."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    max_regions: int = Field(default=4, ge=1, le=16, description="more crops: the whole frame")
    margin_fraction: float = Field(
        default=0.25, ge=0.0, le=2.0, description="context around each box, of its size per side"
    )
    full_frame_fraction: float = Field(
        default=0.6, gt=0.0, le=1.0, description="crops covering more of the frame: whole frame"
    )
    small_frame_factor: float = Field(
        default=1.25, ge=1.0, le=4.0, description="frames this close to the input: always whole"
    )
    recheck_factor: float = Field(
        default=2.5,
        ge=1.0,
        le=10.0,
        description="keep-alives recheck known objects on native crops in frames this much larger",
    )
    iou_threshold: float = Field(default=0.45, gt=0.0, le=1.0, description="NMS across crops")
    containment: float = Field(
        default=0.7, gt=0.0, le=1.0, description="a box this much inside a better one is cut"
    )


@dataclass(frozen=True, slots=True)
class Region:
    """A rectangle of frame pixels [x1, x2) x [y1, y2) the detector is given."""

    x1: int
    y1: int
    x2: int
    y2: int

    @classmethod
    def whole(cls, frame_hw: tuple[int, int]) -> "Region":
        return cls(0, 0, frame_hw[1], frame_hw[0])

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    @property
    def area(self) -> int:
        return self.width * self.height

    def covers_whole(self, frame_hw: tuple[int, int]) -> bool:
        return (self.x1, self.y1, self.x2, self.y2) == (0, 0, frame_hw[1], frame_hw[0])

    def crop(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """A view of the region (no copy)."""
        return image[self.y1 : self.y2, self.x1 : self.x2]

    def contains_points(self, xy: NDArray[np.float32]) -> NDArray[np.bool_]:
        inside: NDArray[np.bool_] = (
            (xy[:, 0] >= self.x1)
            & (xy[:, 0] < self.x2)
            & (xy[:, 1] >= self.y1)
            & (xy[:, 1] < self.y2)
        )
        return inside


def is_small_frame(frame_hw: tuple[int, int], size_px: int, config: RegionConfig) -> bool:
    """Whether shrinking the whole frame to the model's input loses little."""
    return max(frame_hw) <= size_px * config.small_frame_factor


def plan_regions(
    frame_hw: tuple[int, int],
    xyxy: NDArray[np.floating] | NDArray[np.integer],
    *,
    size_px: int,
    config: RegionConfig,
) -> tuple[Region, ...]:
    """Crops that together contain every box (grown by the margin); () when there is no box.

    size_px is the model's input side. Each crop is a square of at least size_px (smaller only
    where the frame is), or the whole frame when that is as good (see the module docstring).
    """
    if size_px < 1:
        raise ValueError(f"size_px must be positive, got {size_px}")
    boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    if boxes.shape[0] == 0:
        return ()
    whole = (Region.whole(frame_hw),)
    if not config.enabled or is_small_frame(frame_hw, size_px, config):
        return whole
    height, width = frame_hw
    grown = _grow(boxes, config.margin_fraction, width=width, height=height)
    clusters = _cluster(grown, size_px)
    regions = tuple(
        _square_around(cluster, size_px, width=width, height=height) for cluster in clusters
    )
    covered = sum(region.area for region in regions)
    if len(regions) > config.max_regions or covered > config.full_frame_fraction * width * height:
        return whole
    return regions


def _grow(
    boxes: NDArray[np.float64], margin_fraction: float, *, width: int, height: int
) -> NDArray[np.float64]:
    x1 = np.minimum(boxes[:, 0], boxes[:, 2])
    y1 = np.minimum(boxes[:, 1], boxes[:, 3])
    x2 = np.maximum(boxes[:, 0], boxes[:, 2])
    y2 = np.maximum(boxes[:, 1], boxes[:, 3])
    margin_x = (x2 - x1) * margin_fraction + 2.0
    margin_y = (y2 - y1) * margin_fraction + 2.0
    grown = np.stack([x1 - margin_x, y1 - margin_y, x2 + margin_x, y2 + margin_y], axis=1)
    return np.clip(grown, 0.0, [width, height, width, height])


def _cluster(boxes: NDArray[np.float64], size_px: int) -> list[NDArray[np.float64]]:
    """Greedy: largest box first, each joins the first cluster whose union still fits one crop."""
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    clusters: list[NDArray[np.float64]] = []
    for box in boxes[np.argsort(-areas, kind="stable")]:
        for index, cluster in enumerate(clusters):
            union = _union(cluster, box)
            if max(union[2] - union[0], union[3] - union[1]) <= size_px:
                clusters[index] = union
                break
        else:
            clusters.append(box.copy())
    # joining may have made clusters that now fit together
    merged = True
    while merged and len(clusters) > 1:
        merged = False
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                union = _union(clusters[i], clusters[j])
                if max(union[2] - union[0], union[3] - union[1]) <= size_px:
                    clusters[i] = union
                    del clusters[j]
                    merged = True
                    break
            if merged:
                break
    return clusters


def _union(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.array([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])])


def _square_around(box: NDArray[np.float64], size_px: int, *, width: int, height: int) -> Region:
    """The square of side max(size_px, the box's sides) centred on the box, slid into the frame."""
    side = max(size_px, int(np.ceil(box[2] - box[0])), int(np.ceil(box[3] - box[1])))
    side_w, side_h = min(side, width), min(side, height)
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x1 = int(np.clip(round(centre_x - side_w / 2), 0, width - side_w))
    y1 = int(np.clip(round(centre_y - side_h / 2), 0, height - side_h))
    return Region(x1, y1, x1 + side_w, y1 + side_h)


def detect_regions(
    detector: Detector,
    image: NDArray[np.uint8],
    regions: Sequence[Region],
    *,
    config: RegionConfig | None = None,
) -> Detections:
    """Run the detector on each region and merge the boxes, in the frame's pixels.

    No region (or one covering the whole frame) means the whole frame, given as it is.
    """
    frame_hw = (int(image.shape[0]), int(image.shape[1]))
    if not regions or (len(regions) == 1 and regions[0].covers_whole(frame_hw)):
        return detector.detect(image)
    settings = config or RegionConfig()
    parts: list[Detections] = []
    origins: list[int] = []
    for index, region in enumerate(regions):
        found = detector.detect(region.crop(image))
        if len(found) == 0:
            continue
        offset = np.array([region.x1, region.y1, region.x1, region.y1], dtype=np.float32)
        parts.append(
            Detections(
                xyxy=(found.xyxy + offset).astype(np.float32),
                confidence=found.confidence,
                class_id=found.class_id,
                class_names=found.class_names,
            )
        )
        origins.extend([index] * len(found))
    merged = concat_detections(parts, detector.class_names)
    if len(parts) <= 1:
        return merged
    keep = nms_per_class(
        merged.xyxy,
        merged.confidence,
        merged.class_id,
        settings.iou_threshold,
        max_detections=len(merged),
    )
    keep = _drop_cut_boxes(merged, keep, np.asarray(origins, np.int64), settings.containment)
    return merged[keep]


def _drop_cut_boxes(
    detections: Detections,
    keep: NDArray[np.int64],
    origins: NDArray[np.int64],
    containment: float,
) -> NDArray[np.int64]:
    """Drop a box lying mostly inside a more confident box of the same class from another crop."""
    kept: list[int] = []
    for index in keep.tolist():  # highest confidence first
        box = detections.xyxy[index]
        area = max(float((box[2] - box[0]) * (box[3] - box[1])), 1e-6)
        cut = False
        for better in kept:
            if (
                origins[better] == origins[index]
                or detections.class_id[better] != detections.class_id[index]
            ):
                continue
            other = detections.xyxy[better]
            inter_w = min(box[2], other[2]) - max(box[0], other[0])
            inter_h = min(box[3], other[3]) - max(box[1], other[1])
            if inter_w > 0 and inter_h > 0 and inter_w * inter_h >= containment * area:
                cut = True
                break
        if not cut:
            kept.append(index)
    return np.asarray(kept, dtype=np.int64)


def concat_detections(parts: Sequence[Detections], class_names: tuple[str, ...]) -> Detections:
    """One Detections of all parts (tracker ids are not kept)."""
    if not parts:
        return Detections.empty(class_names)
    if len(parts) == 1:
        return parts[0]
    return Detections(
        xyxy=np.concatenate([part.xyxy for part in parts]).astype(np.float32),
        confidence=np.concatenate([part.confidence for part in parts]).astype(np.float32),
        class_id=np.concatenate([part.class_id for part in parts]).astype(np.int64),
        class_names=class_names,
    )


def box_centres(xyxy: NDArray[np.float32]) -> NDArray[np.float32]:
    centres: NDArray[np.float32] = np.stack(
        [(xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2], axis=1
    ).astype(np.float32)
    return centres
