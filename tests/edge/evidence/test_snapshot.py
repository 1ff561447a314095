"""Snapshots: the incident frame with each box outlined and labelled, as a JPEG."""

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.evidence.snapshot import draw_boxes, render_snapshot
from edge.violation import Box

BOXES = (
    Box(label="head_bare", confidence=0.87, x1=0.25, y1=0.25, x2=0.5, y2=0.75),
    Box(label="rodent", confidence=0.6, x1=0.6, y1=0.0, x2=0.9, y2=0.2),  # touches the top
)


def red(pixels: NDArray[np.uint8]) -> NDArray[np.bool_]:
    b, g, r = (pixels[..., i].astype(int) for i in range(3))
    return (r > 180) & (g < 90) & (b < 90)


def test_boxes_and_labels_are_drawn_and_the_rest_is_untouched() -> None:
    image = np.full((400, 800, 3), 60, dtype=np.uint8)
    drawn = draw_boxes(image, BOXES)
    assert np.all(image == 60)  # the input is not modified
    # the four edges of the first box (200..400 x, 100..300 y) are red
    assert red(drawn[100:300, 200]).mean() > 0.9
    assert red(drawn[100:300, 400]).mean() > 0.9
    assert red(drawn[300, 200:400]).mean() > 0.9
    # a label: white text on a red band above the box
    band = drawn[75:100, 200:330]
    assert red(band).mean() > 0.4
    assert (band.min(axis=2) > 200).any()
    # inside the box and far from both boxes: untouched
    assert np.all(drawn[150:290, 210:390] == 60)
    assert np.all(drawn[320:, :] == 60)
    # the box at the top edge gets its label inside, still on the image
    assert red(drawn[0:20, 480:560]).mean() > 0.3


def test_render_snapshot_downscales_and_encodes_jpeg() -> None:
    image = np.full((1080, 1920, 3), 60, dtype=np.uint8)
    data = render_snapshot(image, BOXES, max_width_px=960, jpeg_quality=90)
    assert data[:2] == b"\xff\xd8"
    decoded = np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), np.uint8)
    assert decoded.shape == (540, 960, 3)
    assert red(decoded[135:405, 240]).mean() > 0.9  # x1 = 0.25 of 960
