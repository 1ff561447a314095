"""Labels: tight boxes per visible object, measured on the owner map of what was actually drawn."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scenes.canvas import PlacedObject
from scenes.classes import CLASS_NAMES, class_id


@dataclass(frozen=True, slots=True)
class Label:
    """One object: class id and a box in pixels, x2/y2 exclusive (one pixel is x, y, x+1, y+1)."""

    class_id: int
    xyxy: tuple[float, float, float, float]
    visible_fraction: float = 1.0  # of the object's drawn pixels, after occlusion and cropping

    @property
    def class_name(self) -> str:
        return CLASS_NAMES[self.class_id]

    @property
    def width(self) -> float:
        return self.xyxy[2] - self.xyxy[0]

    @property
    def height(self) -> float:
        return self.xyxy[3] - self.xyxy[1]


def extract_labels(
    owner: NDArray[np.int32],
    objects: Sequence[PlacedObject],
    *,
    area_scale: Callable[[tuple[float, float]], float],
    min_box_px: float,
    contrast: NDArray[np.float32] | None = None,
    min_contrast: float = 0.0,
) -> tuple[Label, ...]:
    """Boxes of every object still visible enough in owner (a map of object indices, <0 elsewhere).

    An object keeps its label when the pixels it still owns (its sub-objects' included) are at least
    its min_visible fraction of what it drew, area_scale converting canvas pixels to owner-map
    pixels at the object's centre, and its box is at least min_box_px both ways. With contrast (per
    pixel, how much the objects changed the picture), the mean contrast over the pixels it owns
    must also reach min_contrast: an object drawn in the colours of what is behind it, or lost in
    noise, is there but cannot be seen.
    """
    count = len(objects)
    if count == 0:
        return ()
    ys, xs = np.nonzero(owner >= 0)
    ids = owner[ys, xs]
    visible = np.bincount(ids, minlength=count).astype(np.float64)
    changed = (
        np.bincount(ids, weights=contrast[ys, xs], minlength=count)
        if contrast is not None
        else np.zeros(count)
    )
    big = np.iinfo(np.int64).max
    x_min = np.full(count, big, dtype=np.int64)
    y_min = np.full(count, big, dtype=np.int64)
    x_max = np.full(count, -1, dtype=np.int64)
    y_max = np.full(count, -1, dtype=np.int64)
    np.minimum.at(x_min, ids, xs)
    np.minimum.at(y_min, ids, ys)
    np.maximum.at(x_max, ids, xs)
    np.maximum.at(y_max, ids, ys)
    # children come after their parents, so one backward pass folds every sub-object into its parent
    for index in range(count - 1, -1, -1):
        parent = objects[index].parent
        if parent is None or visible[index] == 0:
            continue
        visible[parent] += visible[index]
        changed[parent] += changed[index]
        x_min[parent] = min(x_min[parent], x_min[index])
        y_min[parent] = min(y_min[parent], y_min[index])
        x_max[parent] = max(x_max[parent], x_max[index])
        y_max[parent] = max(y_max[parent], y_max[index])
    labels: list[Label] = []
    for index, obj in enumerate(objects):
        if visible[index] == 0 or obj.drawn_px <= 0:
            continue
        fraction = float(visible[index] / (obj.drawn_px * area_scale(obj.center_xy)))
        box = (
            float(x_min[index]),
            float(y_min[index]),
            float(x_max[index] + 1),
            float(y_max[index] + 1),
        )
        if fraction < obj.min_visible or min(box[2] - box[0], box[3] - box[1]) < min_box_px:
            continue
        if contrast is not None and changed[index] / visible[index] < min_contrast:
            continue
        labels.append(Label(class_id(obj.class_name), box, min(fraction, 1.0)))
    return tuple(labels)


def yolo_lines(labels: Sequence[Label], width: int, height: int) -> str:
    """Labels in YOLO text format: one `class cx cy w h` line each, normalised to 0..1."""
    lines = []
    for label in labels:
        x1, y1, x2, y2 = label.xyxy
        lines.append(
            f"{label.class_id} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} "
            f"{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"
        )
    return "\n".join(lines) + ("\n" if lines else "")
