"""The warm start reads a fused export's convolutions by module name and refuses a file that does
not match the model it rebuilds (no torch needed: tiny graphs made with onnx.helper)."""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from training.errors import TrainingError
from training.warm_start import (
    calibration_images,
    check_conv_match,
    class_names_of,
    onnx_conv_params,
    seed_one_to_one,
)


def _tensor(name: str, shape: tuple[int, ...], fill: float) -> TensorProto:
    return numpy_helper.from_array(np.full(shape, fill, dtype=np.float32), name)


def _graph(
    *, first_weight: str = "model.0.conv.weight", names: str | None = None
) -> onnx.ModelProto:
    """images -> Conv (fused, with bias) -> Conv (plain, no bias) -> output0."""
    nodes = [
        helper.make_node("Conv", ["images", first_weight, "model.0.conv.bias"], ["a"], name="c0"),
        helper.make_node("Conv", ["a", "model.22.dfl.conv.weight"], ["output0"], name="c1"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 1, 8, 8])],
        initializer=[
            _tensor(first_weight, (4, 3, 1, 1), 0.5),
            _tensor("model.0.conv.bias", (4,), -1.0),
            _tensor("model.22.dfl.conv.weight", (1, 4, 1, 1), 2.0),
        ],
    )
    model = helper.make_model(graph)
    if names is not None:
        helper.set_model_props(model, {"names": names})
    return model


def test_convolutions_are_keyed_by_their_torch_module_with_weight_and_bias() -> None:
    params = onnx_conv_params(_graph())
    assert list(params) == ["model.0.conv", "model.22.dfl.conv"]  # graph order
    fused = params["model.0.conv"]
    assert fused.weight.shape == (4, 3, 1, 1)
    assert fused.weight[0, 0, 0, 0] == pytest.approx(0.5)
    assert fused.bias is not None
    assert fused.bias.tolist() == [-1.0] * 4
    assert params["model.22.dfl.conv"].bias is None


def test_an_anonymous_weight_is_refused_rather_than_guessed() -> None:
    with pytest.raises(TrainingError, match="onnx::Conv_7"):
        onnx_conv_params(_graph(first_weight="onnx::Conv_7"))


def test_a_matching_model_passes_and_every_difference_is_named() -> None:
    params = onnx_conv_params(_graph())
    expected = {"model.0.conv": (4, 3, 1, 1), "model.22.dfl.conv": (1, 4, 1, 1)}
    check_conv_match(params, expected)
    wrong = {
        "model.0.conv": (8, 3, 1, 1),  # another width
        "model.1.conv": (4, 4, 3, 3),  # not exported
    }
    with pytest.raises(TrainingError, match="3 differences") as err:
        check_conv_match(params, wrong)
    message = str(err.value)
    assert "missing in the ONNX file: model.1.conv" in message
    assert "not in the model: model.22.dfl.conv" in message
    assert "model.0.conv: shape (4, 3, 1, 1) in the ONNX file, (8, 3, 1, 1) in the model" in message


def test_a_one_to_one_head_left_out_of_the_export_is_seeded_from_its_one_to_many_twin() -> None:
    exported = onnx_conv_params(_graph())
    model = {
        "model.0.conv": (4, 3, 1, 1),
        "model.22.dfl.conv": (1, 4, 1, 1),
        "model.22.one2one_dfl.conv": (1, 4, 1, 1),  # the twin ultralytics trains beside it
    }
    params, seeded = seed_one_to_one(exported, model)
    assert seeded == ("model.22.one2one_dfl.conv",)
    assert params["model.22.one2one_dfl.conv"] is exported["model.22.dfl.conv"]
    check_conv_match(params, model)
    assert "model.22.one2one_dfl.conv" not in exported  # the export's own reading is unchanged


def test_only_a_one_to_one_module_with_an_exported_twin_is_seeded() -> None:
    exported = onnx_conv_params(_graph())
    model = {
        "model.0.conv": (4, 3, 1, 1),
        "model.22.dfl.conv": (1, 4, 1, 1),
        "model.22.one2one_cv9.conv": (1, 4, 1, 1),  # no cv9 exported
        "model.23.conv": (4, 4, 1, 1),  # a plain module the file lacks
    }
    params, seeded = seed_one_to_one(exported, model)
    assert seeded == ()
    with pytest.raises(TrainingError, match="2 differences") as err:
        check_conv_match(params, model)
    assert "missing in the ONNX file: model.22.one2one_cv9.conv" in str(err.value)
    assert "missing in the ONNX file: model.23.conv" in str(err.value)


def test_class_names_come_from_ultralytics_metadata_in_id_order() -> None:
    model = _graph(names="{1: 'head_bare', 0: 'person'}")
    assert class_names_of(model) == ["person", "head_bare"]
    with pytest.raises(TrainingError, match="names"):
        class_names_of(_graph())
    with pytest.raises(TrainingError, match="unexpected"):
        class_names_of(_graph(names="{0: 'person', 2: 'rodent'}"))


def test_calibration_images_are_spread_over_all_folders_deterministically(tmp_path: Path) -> None:
    for folder, count in (("generated", 8), ("photos", 4)):
        (tmp_path / folder).mkdir()
        for i in range(count):
            (tmp_path / folder / f"{i:02d}.jpg").write_bytes(b"")
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    folders = [tmp_path / "generated", tmp_path / "photos"]
    chosen = calibration_images(folders, 6)
    assert len(chosen) == 6
    assert {p.parent.name for p in chosen} == {"generated", "photos"}
    assert chosen == calibration_images(folders, 6)
    assert len(calibration_images(folders, 50)) == 12
    with pytest.raises(TrainingError, match="no images"):
        calibration_images([tmp_path / "empty"], 4)
