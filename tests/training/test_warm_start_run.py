"""A warm start is refused, with the reason, before torch is loaded when it cannot work; a rebuilt
model that does not reproduce its file is refused too (no torch needed)."""

from pathlib import Path

import onnx
import pytest

from scenes.classes import CLASS_NAMES
from scenes.marker_model import marker_model_proto
from training.errors import TrainingError
from training.warm_start import WarmStartCheck
from training.warm_start_run import check_fit, check_warm_start_source

KITCHEN = Path(__file__).resolve().parents[2] / "models" / "kitchen" / "model.onnx"


def test_the_shipped_model_is_a_warm_start_for_data_with_its_classes() -> None:
    check_warm_start_source(KITCHEN, CLASS_NAMES)
    check_warm_start_source(KITCHEN)  # the classes unknown yet: only the file is checked


def test_data_with_other_classes_is_refused_naming_both_lists() -> None:
    with pytest.raises(TrainingError, match=r"has the classes \['person'.*the data \['rat'\]"):
        check_warm_start_source(KITCHEN, ("rat",))
    reordered = (CLASS_NAMES[1], CLASS_NAMES[0], *CLASS_NAMES[2:])
    with pytest.raises(TrainingError, match="in its order"):
        check_warm_start_source(KITCHEN, reordered)


def test_a_missing_corrupt_or_foreign_file_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match=r"nothing\.onnx does not exist"):
        check_warm_start_source(tmp_path / "nothing.onnx")
    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(b"torch")
    with pytest.raises(TrainingError, match=r"best\.pt: expected an ONNX export"):
        check_warm_start_source(checkpoint)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(TrainingError, match=r"corrupt\.onnx: not a readable ONNX file"):
        check_warm_start_source(corrupt)
    proto = marker_model_proto()
    del proto.metadata_props[:]  # an ONNX file without ultralytics' class names
    foreign = tmp_path / "foreign.onnx"
    onnx.save(proto, str(foreign))
    with pytest.raises(TrainingError, match=r"foreign\.onnx: .*no `names` metadata"):
        check_warm_start_source(foreign)


def test_a_rebuilt_model_that_does_not_reproduce_its_file_is_refused() -> None:
    close = WarmStartCheck(
        images=8, max_abs_box_px=4e-4, max_abs_score=2e-6, train_mode_max_abs_score=0.01
    )
    check_fit(close, KITCHEN)
    for far in (
        WarmStartCheck(
            images=8, max_abs_box_px=0.2, max_abs_score=2e-6, train_mode_max_abs_score=0
        ),
        WarmStartCheck(
            images=8, max_abs_box_px=4e-4, max_abs_score=0.01, train_mode_max_abs_score=0
        ),
    ):
        with pytest.raises(TrainingError, match="does not reproduce"):
            check_fit(far, KITCHEN)
