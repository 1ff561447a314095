"""Face regions from detections and from skin colour, and obscuring them."""

import numpy as np
import pytest
from numpy.typing import NDArray

from edge.faces import (
    Region,
    is_grayscale,
    obscure,
    regions_from_detections,
    skin_regions,
)
from tests.edge.pictures import CLASSES, detail, face_like, noise
from tests.fixtures.edge import detections_of


def test_face_and_head_boxes_grow_and_people_give_their_upper_part() -> None:
    detections = detections_of(
        xyxy=[[100, 100, 200, 200], [400, 0, 600, 400], [10, 10, 20, 20], [700, 50, 760, 110]],
        labels=["face_bare", "person", "rodent", "head_covered"],
        class_names=CLASSES,
    )
    regions = regions_from_detections(detections, 800, 400, margin=0.5, person_head_fraction=0.25)
    pixels = [region.pixels(800, 400) for region in regions]
    assert pixels == [
        (50, 50, 250, 250),
        (300, 0, 700, 150),  # the top quarter of the person, grown
        (670, 20, 790, 140),
    ]


def test_region_pixels_cover_the_region_and_stay_inside_the_image() -> None:
    assert Region(0.125, 0.25, 0.625, 0.875).pixels(100, 10) == (12, 2, 63, 9)
    assert Region(-0.5, -0.5, 1.5, 1.5).pixels(64, 48) == (0, 0, 64, 48)


def test_obscure_destroys_detail_inside_and_keeps_it_outside() -> None:
    image = noise(200, 400)
    out = obscure(image, [Region(0.0, 0.0, 0.5, 1.0)])
    assert np.array_equal(out[:, 200:], image[:, 200:])
    assert detail(out[:, :200]) < detail(image[:, :200]) * 0.01
    assert np.array_equal(image, noise(200, 400))  # the input is untouched


def test_skin_regions_find_a_face_and_not_a_steel_counter() -> None:
    frame = np.full((360, 640, 3), (150, 140, 130), dtype=np.uint8)  # grey-blue steel
    frame[100:220, 300:420] = face_like(120)
    regions = skin_regions(frame)
    assert len(regions) == 1
    x1, y1, x2, y2 = regions[0].pixels(640, 360)
    assert x1 <= 312
    assert y1 <= 102
    assert x2 >= 408
    assert y2 >= 218
    assert skin_regions(np.full((360, 640, 3), (150, 140, 130), dtype=np.uint8)) == ()


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (np.repeat(noise(60, 80)[..., :1], 3, axis=2), True),  # infrared night: B = G = R
        (noise(60, 80), False),
    ],
)
def test_grayscale_frames_are_recognised(image: NDArray[np.uint8], expected: bool) -> None:
    assert is_grayscale(image) is expected
