"""Regions: crops cover every box at native resolution, and detections map back exactly."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from detector.detections import Detections
from edge.regions import Region, RegionConfig, detect_regions, plan_regions

CLASSES = ("head", "rat")
MARKER_MODEL = Path(__file__).resolve().parents[2] / "models" / "marker" / "model.onnx"
FULL_HD = (1080, 1920)
SIZE = 320


class FakeBlobDetector:
    """Finds the pixels of value 255 in channel 0 (label from channel 1) in the image it gets.

    Each blob is boxed exactly by the image coordinates it occupies, as a perfect detector
    would; it records the shapes it was given. A blob touching the image's edge is still boxed
    (cut), like a real detector does with an object cut by a crop.
    """

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []

    @property
    def class_names(self) -> tuple[str, ...]:
        return CLASSES

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        self.shapes.append((int(image.shape[0]), int(image.shape[1])))
        mask = np.ascontiguousarray(image[:, :, 0] == 255).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        boxes, classes = [], []
        for label in range(1, count):
            x, y, w, h = (int(v) for v in stats[label, :4])
            boxes.append([x, y, x + w, y + h])
            classes.append(int(image[y, x, 1] == 255))
        return Detections(
            xyxy=np.asarray(boxes, np.float32).reshape(-1, 4),
            confidence=np.full(len(boxes), 0.9, np.float32),
            class_id=np.asarray(classes, np.int64),
            class_names=CLASSES,
        )


def frame_with(
    blobs: list[tuple[int, int, int, int, int]], hw: tuple[int, int] = FULL_HD
) -> NDArray[np.uint8]:
    """A black frame with filled rectangles (x1, y1, x2, y2, class)."""
    image = np.zeros((*hw, 3), np.uint8)
    for x1, y1, x2, y2, class_id in blobs:
        image[y1:y2, x1:x2, 0] = 255
        image[y1:y2, x1:x2, 1] = 255 * class_id
    return image


def inside(region: Region, box: NDArray[np.float64] | list[float]) -> bool:
    return bool(
        region.x1 <= box[0] and region.y1 <= box[1] and region.x2 >= box[2] and region.y2 >= box[3]
    )


def test_no_box_no_region() -> None:
    assert plan_regions(FULL_HD, np.zeros((0, 4)), size_px=SIZE, config=RegionConfig()) == ()


def test_small_boxes_far_apart_get_model_sized_crops_that_contain_them() -> None:
    boxes = np.array([[100, 100, 140, 150], [1700, 900, 1740, 960], [1000, 500, 1030, 530]])

    regions = plan_regions(FULL_HD, boxes, size_px=SIZE, config=RegionConfig())

    assert len(regions) == 3
    assert all((region.width, region.height) == (SIZE, SIZE) for region in regions)
    assert all(any(inside(region, box) for region in regions) for box in boxes)
    assert all(r.x1 >= 0 and r.x2 <= 1920 and r.y1 >= 0 and r.y2 <= 1080 for r in regions)


def test_boxes_that_fit_one_crop_share_it() -> None:
    boxes = np.array([[500, 500, 540, 540], [600, 560, 650, 620], [520, 640, 560, 700]])

    (region,) = plan_regions(FULL_HD, boxes, size_px=SIZE, config=RegionConfig())

    assert (region.width, region.height) == (SIZE, SIZE)
    assert all(inside(region, box) for box in boxes)


def test_a_box_bigger_than_a_crop_gets_a_crop_of_its_size() -> None:
    box = np.array([[400, 200, 900, 700]])

    (region,) = plan_regions(FULL_HD, box, size_px=SIZE, config=RegionConfig())

    assert region.width == region.height
    assert region.width > 500
    assert inside(region, box[0])


def test_a_box_at_the_edge_gets_a_crop_slid_into_the_frame() -> None:
    (region,) = plan_regions(
        FULL_HD, np.array([[1900, 1060, 1920, 1080]]), size_px=SIZE, config=RegionConfig()
    )

    assert (region.x2, region.y2) == (1920, 1080)
    assert (region.width, region.height) == (SIZE, SIZE)


@pytest.mark.parametrize(
    ("hw", "boxes", "config"),
    [
        ((360, 400), [[10, 10, 30, 30]], RegionConfig()),  # the frame is hardly bigger
        (FULL_HD, [[x, 100, x + 20, 120] for x in range(0, 1900, 380)], RegionConfig()),  # many
        (FULL_HD, [[0, 0, 1500, 1000]], RegionConfig()),  # most of the frame moves
        (FULL_HD, [[100, 100, 120, 120]], RegionConfig(enabled=False)),
    ],
)
def test_the_whole_frame_when_crops_would_not_pay(
    hw: tuple[int, int], boxes: list[list[int]], config: RegionConfig
) -> None:
    assert plan_regions(hw, np.array(boxes), size_px=SIZE, config=config) == (Region.whole(hw),)


def test_detections_from_crops_map_back_to_frame_pixels_exactly() -> None:
    blobs = [(103, 211, 131, 247, 0), (1650, 880, 1702, 905, 1), (960, 20, 990, 60, 0)]
    image = frame_with(blobs)
    detector = FakeBlobDetector()
    regions = plan_regions(
        FULL_HD, np.array([blob[:4] for blob in blobs]), size_px=SIZE, config=RegionConfig()
    )

    found = detect_regions(detector, image, regions)

    assert detector.shapes == [(SIZE, SIZE)] * 3  # native resolution, the model's input size
    got = sorted(zip(found.xyxy.tolist(), found.labels, strict=True))
    want = sorted(([x1, y1, x2, y2], CLASSES[c]) for x1, y1, x2, y2, c in blobs)
    assert got == want


def test_an_object_in_two_overlapping_crops_is_reported_once() -> None:
    image = frame_with([(600, 400, 640, 440, 0)])
    regions = (Region(400, 300, 720, 620), Region(560, 300, 880, 620))

    found = detect_regions(FakeBlobDetector(), image, regions)

    assert found.xyxy.tolist() == [[600, 400, 640, 440]]


def test_an_object_cut_by_a_crop_edge_keeps_its_whole_box() -> None:
    # the second crop sees only the right part of the object; the first sees all of it
    image = frame_with([(600, 400, 700, 440, 0)])
    regions = (Region(400, 300, 720, 620), Region(650, 300, 970, 620))

    found = detect_regions(FakeBlobDetector(), image, regions)

    assert found.xyxy.tolist() == [[600, 400, 700, 440]]


def test_no_region_or_the_whole_frame_means_the_frame_as_it_is() -> None:
    image = frame_with([(10, 10, 20, 20, 1)], hw=(360, 640))
    detector = FakeBlobDetector()

    detect_regions(detector, image, ())
    found = detect_regions(detector, image, (Region.whole((360, 640)),))

    assert detector.shapes == [(360, 640), (360, 640)]
    assert found.labels == ["rat"]


def test_a_small_object_in_a_1080p_frame_is_found_on_a_native_crop_not_on_the_whole_frame() -> None:
    from detector.onnx import OnnxDetector
    from scenes.marker_video import MARKER_RGB

    detector = OnnxDetector(MARKER_MODEL, num_threads=1)
    image = np.full((*FULL_HD, 3), 200, np.uint8)
    red, green, blue = MARKER_RGB
    image[700:748, 1500:1548] = (blue, green, red)  # 48 px: 8 px once the frame is shrunk to 320
    regions = plan_regions(
        FULL_HD, np.array([[1500, 700, 1548, 748]]), size_px=320, config=RegionConfig()
    )

    whole = detect_regions(detector, image, ())
    cropped = detect_regions(detector, image, regions)

    assert len(whole) == 0
    assert cropped.labels == ["red_marker"]
    assert np.abs(cropped.xyxy[0] - [1500, 700, 1548, 748]).max() <= 2
