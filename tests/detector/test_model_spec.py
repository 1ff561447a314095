"""Models that are not what OnnxDetector expects are refused, naming the path and expectation."""

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from detector.errors import ModelError
from detector.model_spec import OutputLayout
from detector.onnx import OnnxDetector
from scenes.marker_model import marker_model_proto

METADATA = {
    "names": "{0: 'person', 1: 'head_bare'}",
    "stride": "32",
    "task": "detect",
    "batch": "1",
    "imgsz": "[320, 320]",
}
Shape = tuple[int | str, ...]


def tiny_model(
    path: Path,
    *,
    input_shape: Shape = (1, 3, 320, 320),
    output_shape: Shape = (1, 6, 2100),
    input_type: int = TensorProto.FLOAT,
    metadata: Mapping[str, str] = METADATA,
) -> Path:
    """A graph whose output0 is zeros of output_shape (symbolic dims made 1 or 7)."""
    concrete = [d if isinstance(d, int) else 7 for d in output_shape]
    concrete[0] = 1
    graph = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["shape"], ["output0"])],
        "tiny",
        [helper.make_tensor_value_info("images", input_type, input_shape)],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, output_shape)],
        initializer=[numpy_helper.from_array(np.array(concrete, np.int64), "shape")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, dict(metadata))
    onnx.save(model, str(path))
    return path


def marker_with_metadata(path: Path, **changes: str | None) -> Path:
    """The real marker model with metadata entries replaced (None removes one)."""
    model = marker_model_proto()
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    for key, value in changes.items():
        if value is None:
            metadata.pop(key)
        else:
            metadata[key] = value
    del model.metadata_props[:]
    helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path


def refused(path: Path, *fragments: str) -> str:
    with pytest.raises(ModelError) as caught:
        OnnxDetector(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_a_valid_tiny_export_is_accepted(tmp_path: Path) -> None:
    detector = OnnxDetector(tiny_model(tmp_path / "ok.onnx"))
    assert detector.class_names == ("person", "head_bare")
    assert detector.input_size == (320, 320)
    assert detector.stride == 32
    assert detector.layout is OutputLayout.RAW
    assert len(detector.detect(np.zeros((360, 640, 3), np.uint8))) == 0


def test_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "absent.onnx", "expected an ONNX file")


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"\x08\x07this is not a protobuf\xff\xff")
    refused(path, "expected a valid ONNX model")


def test_missing_names(tmp_path: Path) -> None:
    refused(marker_with_metadata(tmp_path / "m.onnx", names=None), "'names' missing")


def test_names_are_parsed_as_literals_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "evaluated"
    path = marker_with_metadata(
        tmp_path / "m.onnx", names=f"__import__('pathlib').Path('{marker}').touch()"
    )
    refused(path, "'names' is not a Python literal")
    assert not marker.exists()


def test_names_must_be_indexed_from_zero(tmp_path: Path) -> None:
    path = marker_with_metadata(tmp_path / "m.onnx", names="{1: 'red_marker'}")
    refused(path, "keys 0..n-1")


def test_names_count_must_match_the_output_channels(tmp_path: Path) -> None:
    path = marker_with_metadata(tmp_path / "m.onnx", names="{0: 'red_marker', 1: 'blue_marker'}")
    refused(path, "4 + 2 classes = 6", "found (1, 5, 1600)")


def test_task_must_be_detect(tmp_path: Path) -> None:
    refused(marker_with_metadata(tmp_path / "m.onnx", task="segment"), "task 'detect'", "segment")


def test_unparseable_imgsz(tmp_path: Path) -> None:
    refused(marker_with_metadata(tmp_path / "m.onnx", imgsz="[320, "), "'imgsz'")


def test_imgsz_must_agree_with_the_input(tmp_path: Path) -> None:
    path = marker_with_metadata(tmp_path / "m.onnx", imgsz="[640, 640]")
    refused(path, "expected input (1, 3, 640, 640)", "found (1, 3, 320, 320)")


def test_bad_stride(tmp_path: Path) -> None:
    refused(marker_with_metadata(tmp_path / "m.onnx", stride="'eight'"), "stride a positive int")


def test_output_of_wrong_rank(tmp_path: Path) -> None:
    refused(tiny_model(tmp_path / "m.onnx", output_shape=(1, 6)), "expected output", "found (1, 6)")


def test_output_neither_raw_nor_nms(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "m.onnx", output_shape=(1, 9, 2100))
    refused(path, "(1, max_det, 6)", "found (1, 9, 2100)")


def test_input_must_have_three_channels(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "m.onnx", input_shape=(1, 1, 320, 320))
    refused(path, "expected input (1, 3, 320, 320)", "found (1, 1, 320, 320)")


def test_input_must_be_float32(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "m.onnx", input_type=TensorProto.FLOAT16)
    refused(path, "expected a float32 input", "float16")


def test_dynamic_export_takes_its_size_from_imgsz(tmp_path: Path) -> None:
    path = tiny_model(
        tmp_path / "m.onnx",
        input_shape=("batch", 3, "height", "width"),
        output_shape=("batch", 6, "anchors"),
        metadata=METADATA | {"imgsz": "[256, 320]"},
    )
    detector = OnnxDetector(path)
    assert detector.input_size == (256, 320)
    assert detector.layout is OutputLayout.RAW


def test_nms_layout_is_recognised(tmp_path: Path) -> None:
    detector = OnnxDetector(tiny_model(tmp_path / "m.onnx", output_shape=(1, 300, 6)))
    assert detector.layout is OutputLayout.NMS


def test_two_classes_and_six_anchors_are_told_apart_by_the_export_args(tmp_path: Path) -> None:
    raw = tiny_model(tmp_path / "raw.onnx", output_shape=(1, 6, 6))
    nms = tiny_model(
        tmp_path / "nms.onnx",
        output_shape=(1, 6, 6),
        metadata=METADATA | {"args": "{'batch': 1, 'nms': True}"},
    )
    assert OnnxDetector(raw).layout is OutputLayout.RAW
    assert OnnxDetector(nms).layout is OutputLayout.NMS
