"""The marker model: ultralytics' export format, a graph that responds to what the picture shows."""

import ast
import os
from pathlib import Path

import av
import numpy as np
import onnx
import pytest
from numpy.typing import NDArray

from scenes.marker_model import (
    MAX_DET,
    MarkerModelError,
    build_marker_model,
    main,
    marker_model_proto,
)
from scenes.marker_video import marker_visible_at
from tests.fixtures.rtsp import MARKER_INTERVALS_S

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
import onnxruntime as ort

from detector.onnx import OnnxDetector

SHIPPED_MODEL = Path(__file__).resolve().parents[2] / "models" / "marker" / "model.onnx"


def run(model: onnx.ModelProto, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Output0 of the graph for a square RGB picture of the model's input size."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    tensor = (rgb.transpose(2, 0, 1)[None] / 255).astype(np.float32)
    output = session.run(None, {"images": tensor})[0]
    assert isinstance(output, np.ndarray)
    return output.astype(np.float32)


def picture(*squares: tuple[tuple[int, int, int, int], tuple[int, int, int]]) -> NDArray[np.uint8]:
    rgb = np.full((320, 320, 3), 114, np.uint8)
    rgb[200:, :] = (160, 150, 140)  # a counter, warm grey
    for (x1, y1, x2, y2), colour in squares:
        rgb[y1:y2, x1:x2] = colour
    return rgb


def box_iou(a: NDArray[np.float32], b: tuple[int, int, int, int]) -> float:
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def test_metadata_is_what_ultralytics_writes() -> None:
    model = marker_model_proto(class_names=("red_marker", "blue_marker"))
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    assert ast.literal_eval(metadata["names"]) == {0: "red_marker", 1: "blue_marker"}
    assert ast.literal_eval(metadata["imgsz"]) == [320, 320]
    assert ast.literal_eval(metadata["stride"]) == 8
    assert ast.literal_eval(metadata["batch"]) == 1
    assert metadata["task"] == "detect"
    assert ast.literal_eval(metadata["args"])["nms"] is False
    assert [i.name for i in model.graph.input] == ["images"]
    assert [o.name for o in model.graph.output] == ["output0"]


@pytest.mark.parametrize(
    ("nms", "names", "shape"),
    [
        (False, ("red_marker",), (1, 5, 1600)),
        (False, ("red_marker", "blue_marker"), (1, 6, 3200)),
        (True, ("red_marker",), (1, MAX_DET, 6)),
        (True, ("green_marker", "blue_marker"), (1, MAX_DET, 6)),
    ],
)
def test_output_shapes_follow_the_export_format(
    nms: bool, names: tuple[str, ...], shape: tuple[int, ...]
) -> None:
    model = marker_model_proto(nms=nms, class_names=names)
    onnx.checker.check_model(model, full_check=True)
    assert run(model, picture()).shape == shape


def test_raw_output_boxes_the_red_square_and_scores_nothing_else() -> None:
    square = (100, 60, 132, 92)  # 32 px: a 64 px marker of a 640-wide frame at 320
    output = run(marker_model_proto(), picture((square, (230, 20, 20))))[0]
    scores = output[4]
    best = int(scores.argmax())
    cx, cy, w, h = output[:4, best]
    assert scores[best] > 0.9
    assert box_iou(np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]), square) > 0.9
    assert run(marker_model_proto(), picture())[0, 4].max() < 0.01


def test_each_colour_lights_only_its_own_class() -> None:
    model = marker_model_proto(class_names=("red_marker", "green_marker", "blue_marker"))
    green = picture(((40, 40, 80, 80), (20, 200, 20)))
    scores = run(model, green)[0, 4:]
    assert scores[1].max() > 0.9
    assert scores[0].max() < 0.01
    assert scores[2].max() < 0.01


def test_nms_output_is_sorted_padded_and_classed() -> None:
    model = marker_model_proto(nms=True, class_names=("red_marker", "blue_marker"))
    red, blue = (20, 20, 60, 60), (200, 120, 230, 150)
    rows = run(model, picture((red, (230, 20, 20)), (blue, (20, 20, 230))))[0]
    kept = rows[rows[:, 4] > 0]
    assert kept.shape[0] == 2
    assert np.all(np.diff(kept[:, 4]) <= 0)
    by_class = {int(row[5]): row[:4] for row in kept}
    assert box_iou(by_class[0], red) > 0.9
    assert box_iou(by_class[1], blue) > 0.9
    np.testing.assert_array_equal(rows[2:], 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"imgsz": 100}, "multiple of 8"),
        ({"imgsz": 16}, "at least 32"),
        ({"class_names": ()}, "at least one"),
        ({"class_names": ("person",)}, "unknown"),
        ({"class_names": ("red_marker", "red_marker")}, "distinct"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(MarkerModelError, match=message):
        marker_model_proto(**kwargs)  # type: ignore[arg-type]


def test_main_writes_a_model(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "marker.onnx"
    assert main([str(path), "--nms", "--class-names", "red_marker", "blue_marker"]) == 0
    detector = OnnxDetector(path)
    assert detector.class_names == ("red_marker", "blue_marker")


def test_shipped_model_is_what_the_builder_makes(tmp_path: Path) -> None:
    rebuilt = tmp_path / "model.onnx"
    build_marker_model(rebuilt)
    assert SHIPPED_MODEL.read_bytes() == rebuilt.read_bytes(), (
        "models/marker/model.onnx is stale: python -m scenes.marker_model models/marker/model.onnx"
    )


def detections_per_frame(video: Path) -> list[tuple[float, int]]:
    detector = OnnxDetector(SHIPPED_MODEL, num_threads=1)
    counts = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            assert frame.pts is not None
            assert frame.time_base is not None
            t_s = float(frame.pts * frame.time_base)
            image: NDArray[np.uint8] = np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
            counts.append((t_s, len(detector.detect(image))))
    return counts


def test_shipped_model_sees_the_marker_in_exactly_the_frames_that_show_it(
    marker_video: Path, plain_video: Path
) -> None:
    counts = detections_per_frame(marker_video)
    assert len(counts) > 100
    wrong = [
        (t_s, n)
        for t_s, n in counts
        if n != (1 if marker_visible_at(t_s, MARKER_INTERVALS_S) else 0)
    ]
    assert wrong == []
    assert all(n == 0 for _, n in detections_per_frame(plain_video))
