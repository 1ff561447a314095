"""Scenes the kitchen models never saw, and what a model finds on them (the shipped model's test;
a candidate in training is checked on the same scenes before it replaces the shipped file).

The scenes use small literal seeds and a config of their own (the training scenes use 63-bit
seeds from scenes.dataset.scene_seed): wall camera, daylight, large heads, every head bare, every
front face masked, every dish uncovered.
"""

from detector.detections import Detections
from scenes.backgrounds import View
from scenes.scene import Scene, SceneConfig
from training.metrics import iou

MIN_SIZE_PX = (
    12.0  # objects under this (sqrt of the box area) in the 320 px scene are not asked for
)
TEST_CONFIG = SceneConfig(
    view=View.WALL,
    night=False,
    people=(2, 3),
    rodents=(2, 4),
    food=(1, 2),
    props=(0, 2),
    cat_probability=0.0,
    head_px=(40.0, 100.0),
    covered_probability=0.0,  # every head bare
    masked_probability=1.0,  # every front face masked
    food_covered_probability=0.0,  # every dish uncovered
)


def found_of(seen: list[tuple[Scene, Detections]], wanted: str) -> tuple[int, int]:
    """(found, total): labelled `wanted` objects of at least MIN_SIZE_PX, 70 % visible, that a
    detection of the same class covers at IoU >= 0.5."""
    found, total = 0, 0
    for scene, detections in seen:
        boxes = [
            tuple(float(v) for v in box)
            for box, label in zip(detections.xyxy, detections.labels, strict=True)
            if label == wanted
        ]
        for label in scene.labels:
            size_px = (label.width * label.height) ** 0.5
            if label.class_name != wanted or size_px < MIN_SIZE_PX:
                continue
            if label.visible_fraction < 0.7:
                continue
            total += 1
            found += any(iou(label.xyxy, box) >= 0.5 for box in boxes)  # type: ignore[arg-type]
    return found, total
