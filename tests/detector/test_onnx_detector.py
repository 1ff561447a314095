"""OnnxDetector on the real onnxruntime path, with marker models in both ultralytics layouts."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from detector.detections import Detector
from detector.errors import DetectorError
from detector.model_spec import OutputLayout
from detector.onnx import OnnxDetector
from tests.detector.conftest import BLUE_BGR, RED_BGR, draw_square, iou, plain_frame

LAYOUTS = {"red": OutputLayout.RAW, "red_nms": OutputLayout.NMS}


@pytest.fixture(params=["red", "red_nms"])
def red_detector(request: pytest.FixtureRequest, marker_models: dict[str, Path]) -> OnnxDetector:
    detector = OnnxDetector(marker_models[request.param])
    assert detector.layout is LAYOUTS[request.param]
    return detector


@pytest.mark.parametrize(
    "square",
    [(300, 100, 364, 164), (0, 0, 48, 48), (580, 300, 640, 360), (101, 203, 197, 299)],
    ids=["middle-64", "top-left-48", "bottom-right-60", "odd-96"],
)
def test_red_square_is_found_in_frame_pixels(
    red_detector: OnnxDetector, square: tuple[int, int, int, int]
) -> None:
    frame = plain_frame()
    draw_square(frame, square, RED_BGR)
    detections = red_detector.detect(frame)
    assert detections.labels == ["red_marker"]
    assert detections.confidence[0] > 0.9
    assert iou(detections.xyxy[0], square) >= 0.8
    assert detections.xyxy.dtype == np.float32
    assert detections.class_id.dtype == np.int64


@pytest.mark.parametrize("frame_hw", [(640, 360), (720, 1280), (300, 300)])
def test_other_frame_shapes_map_back_correctly(
    red_detector: OnnxDetector, frame_hw: tuple[int, int]
) -> None:
    height, width = frame_hw
    side = max(48, min(height, width) // 6)
    square = (width // 3, height // 2, width // 3 + side, height // 2 + side)
    frame = plain_frame(height, width)
    draw_square(frame, square, RED_BGR)
    detections = red_detector.detect(frame)
    assert len(detections) == 1
    assert iou(detections.xyxy[0], square) >= 0.8


def test_plain_frame_gives_no_detection(red_detector: OnnxDetector) -> None:
    detections = red_detector.detect(plain_frame(seed=5))
    assert len(detections) == 0
    assert detections.class_names == ("red_marker",)


def test_several_markers_each_found_once_and_max_detections_holds(
    marker_models: dict[str, Path],
) -> None:
    frame = plain_frame()
    squares = [(cx - 32, cy - 32, cx + 32, cy + 32) for cx in (100, 320, 540) for cy in (90, 270)]
    for square in squares:
        draw_square(frame, square, RED_BGR)
    for key in ("red", "red_nms"):
        detections = OnnxDetector(marker_models[key]).detect(frame)
        assert len(detections) == len(squares)
        for square in squares:
            assert max(iou(box, square) for box in detections.xyxy) >= 0.8
        limited = OnnxDetector(marker_models[key], max_detections=3).detect(frame)
        assert len(limited) == 3


@pytest.mark.parametrize("key", ["two", "two_nms"])
def test_two_classes_are_told_apart(marker_models: dict[str, Path], key: str) -> None:
    detector = OnnxDetector(marker_models[key])
    assert detector.class_names == ("red_marker", "blue_marker")
    frame = plain_frame()
    red, blue = (60, 60, 124, 124), (400, 200, 470, 270)
    draw_square(frame, red, RED_BGR)
    draw_square(frame, blue, BLUE_BGR)
    detections = detector.detect(frame)
    found = dict(zip(detections.labels, detections.xyxy, strict=True))
    assert sorted(found) == ["blue_marker", "red_marker"]
    assert iou(found["red_marker"], red) >= 0.8
    assert iou(found["blue_marker"], blue) >= 0.8
    only_red = detections[detections.class_id == 0]
    assert only_red.labels == ["red_marker"]


def test_confidence_threshold_is_applied(marker_models: dict[str, Path]) -> None:
    frame = plain_frame()
    draw_square(frame, (300, 100, 364, 164), RED_BGR)
    assert len(OnnxDetector(marker_models["red"], confidence_threshold=0.999).detect(frame)) == 0


def test_metadata_properties(marker_models: dict[str, Path]) -> None:
    detector: Detector = OnnxDetector(marker_models["red"])
    assert detector.class_names == ("red_marker",)
    onnx_detector = OnnxDetector(marker_models["red"])
    assert onnx_detector.input_size == (320, 320)
    assert onnx_detector.stride == 8
    assert onnx_detector.model_path == marker_models["red"]


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((360, 640), np.uint8),
        np.zeros((360, 640, 3), np.float32),
        np.zeros((360, 640, 4), np.uint8),
        np.zeros((0, 640, 3), np.uint8),
    ],
    ids=["grey", "float", "bgra", "empty"],
)
def test_images_that_are_not_bgr_are_refused(
    marker_models: dict[str, Path], image: np.ndarray
) -> None:
    with pytest.raises(DetectorError, match=r"expected a BGR image \(H, W, 3\) uint8"):
        OnnxDetector(marker_models["red"]).detect(image)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("confidence_threshold", 1.5),
        ("iou_threshold", -0.1),
        ("num_threads", 0),
        ("max_detections", 0),
    ],
)
def test_bad_options_are_refused(marker_models: dict[str, Path], option: str, value: float) -> None:
    with pytest.raises(ValueError, match=option):
        OnnxDetector(marker_models["red"], **{option: value})  # type: ignore[arg-type]


def test_detect_from_several_threads_keeps_frames_apart(marker_models: dict[str, Path]) -> None:
    detector = OnnxDetector(marker_models["red"])
    wide, tall = plain_frame(360, 640), plain_frame(640, 360)
    draw_square(wide, (500, 40, 564, 104), RED_BGR)
    draw_square(tall, (40, 500, 104, 564), RED_BGR)
    expected = {id(wide): (500, 40, 564, 104), id(tall): (40, 500, 104, 564)}
    worst: list[float] = []

    def work(frame: np.ndarray) -> None:
        for _ in range(30):
            detections = detector.detect(frame)
            worst.append(min((iou(b, expected[id(frame)]) for b in detections.xyxy), default=0))
            worst.append(1.0 if len(detections) == 1 else 0.0)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(work, [wide, tall]))
    assert min(worst) >= 0.8
