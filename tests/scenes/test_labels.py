"""Label extraction from the owner map: tight boxes, occlusion, parents enclosing children."""

import numpy as np

from scenes.canvas import Canvas
from scenes.labels import Label, extract_labels, yolo_lines
from scenes.sprite import NO_PART, Role, Sprite


def _block(
    width: int, height: int, roles: tuple[Role, ...], parts: np.ndarray | None = None
) -> Sprite:
    return Sprite(
        image=np.full((height, width, 3), 200, dtype=np.uint8),
        alpha=np.ones((height, width), dtype=np.float32),
        parts=np.zeros((height, width), dtype=np.uint8) if parts is None else parts,
        roles=roles,
        anchor_xy=(0.0, 0.0),
    )


def _labels(
    canvas: Canvas, contrast: np.ndarray | None = None, min_contrast: float = 0.0
) -> tuple[Label, ...]:
    return extract_labels(
        canvas.owner,
        canvas.objects,
        area_scale=lambda _: 1.0,
        min_box_px=2.0,
        contrast=contrast,
        min_contrast=min_contrast,
    )


def test_box_is_the_extent_of_the_drawn_pixels() -> None:
    canvas = Canvas(np.zeros((50, 60, 3), dtype=np.uint8))
    canvas.place(_block(10, 8, (Role("rodent"),)), 5, 7)
    (label,) = _labels(canvas)
    assert label.class_name == "rodent"
    assert label.xyxy == (5.0, 7.0, 15.0, 15.0)
    assert label.visible_fraction == 1.0


def test_partly_hidden_object_keeps_a_shrunk_box_and_a_mostly_hidden_one_is_dropped() -> None:
    canvas = Canvas(np.zeros((50, 60, 3), dtype=np.uint8))
    canvas.place(_block(20, 10, (Role("food_covered", min_visible=0.5),)), 0, 0)
    canvas.place(_block(20, 10, (Role("rodent", min_visible=0.5),)), 30, 0)
    unlabelled = _block(16, 12, (), parts=np.full((12, 16), NO_PART, dtype=np.uint8))
    canvas.place(unlabelled, 14, 0)  # hides 6 of the tray's 20 columns
    canvas.place(
        _block(16, 12, (), parts=np.full((12, 16), NO_PART, dtype=np.uint8)), 30, 0
    )  # hides 16 of 20
    (label,) = _labels(canvas)
    assert label.class_name == "food_covered"
    assert label.xyxy == (0.0, 0.0, 14.0, 10.0)
    assert abs(label.visible_fraction - 0.7) < 1e-9


def test_a_parent_box_encloses_its_parts_and_a_cropped_object_counts_as_hidden() -> None:
    canvas = Canvas(np.zeros((40, 40, 3), dtype=np.uint8))
    parts = np.zeros((20, 10), dtype=np.uint8)
    parts[:5, 3:9] = 1  # the head on top of the person
    roles = (Role("person", None, 0.3), Role("head_bare", 0, 0.5))
    canvas.place(_block(10, 20, roles, parts), 4, 2)
    canvas.place(_block(10, 20, roles, parts), 35, 2)  # only 5 of 10 columns inside the canvas
    labels = _labels(canvas)
    names = [(label.class_name, label.xyxy) for label in labels]
    assert ("person", (4.0, 2.0, 14.0, 22.0)) in names
    assert ("head_bare", (7.0, 2.0, 13.0, 7.0)) in names
    assert ("person", (35.0, 2.0, 40.0, 22.0)) in names  # half visible: above its 0.3
    assert (
        sum(name == "head_bare" for name, _ in names) == 1
    )  # the cropped head shows 2 of 6 columns


def test_yolo_lines_are_normalised_centre_and_size() -> None:
    text = yolo_lines([Label(5, (10.0, 20.0, 30.0, 60.0))], width=100, height=200)
    assert text == "5 0.200000 0.200000 0.200000 0.200000\n"
    assert yolo_lines([], 10, 10) == ""


def test_an_object_that_does_not_change_the_picture_is_not_labelled() -> None:
    canvas = Canvas(np.zeros((40, 60, 3), dtype=np.uint8))
    canvas.place(_block(10, 8, (Role("rodent"),)), 2, 2)
    canvas.place(_block(10, 8, (Role("rodent"),)), 30, 2)
    parts = np.zeros((20, 10), dtype=np.uint8)
    parts[:5] = 1  # a head on top of the person
    canvas.place(_block(10, 20, (Role("person"), Role("head_bare", 0)), parts), 45, 15)
    contrast = np.zeros((40, 60), dtype=np.float32)
    contrast[:, :20] = 50.0  # the first rodent stands out, the second matches the floor
    contrast[15:20, 45:55] = 60.0  # only the person's head stands out: 15 on average
    labels = _labels(canvas, contrast, min_contrast=12.0)
    assert [(label.class_name, label.xyxy[0]) for label in labels] == [
        ("rodent", 2.0),
        ("person", 45.0),
        ("head_bare", 45.0),
    ]
    strict = _labels(canvas, contrast, min_contrast=20.0)
    assert [label.class_name for label in strict] == ["rodent", "head_bare"]
