"""run_detect: the `brightkitchen detect` command's output and exit codes."""

import json
from pathlib import Path

import cv2
import pytest

from detector.cli import EXIT_BAD_MODEL, EXIT_OK, EXIT_UNREADABLE_IMAGE, run_detect
from tests.detector.conftest import RED_BGR, draw_square, iou, plain_frame

SQUARE = (300, 100, 364, 164)


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    marker = plain_frame()
    draw_square(marker, SQUARE, RED_BGR)
    paths = {"marker": tmp_path / "marker.png", "plain": tmp_path / "plain.jpg"}
    cv2.imwrite(str(paths["marker"]), marker)
    cv2.imwrite(str(paths["plain"]), plain_frame(seed=3))
    paths["garbage"] = tmp_path / "garbage.png"
    paths["garbage"].write_bytes(b"not a picture")
    paths["missing"] = tmp_path / "missing.png"
    return paths


def test_json_maps_each_image_to_its_detections(
    marker_models: dict[str, Path], images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_detect(
        marker_models["red"], [images["marker"], images["plain"]], as_json=True, confidence=0.25
    )
    out, err = capsys.readouterr()
    assert status == EXIT_OK
    assert err == ""
    result = json.loads(out)
    assert list(result) == [str(images["marker"]), str(images["plain"])]
    assert result[str(images["plain"])] == []
    (found,) = result[str(images["marker"])]
    assert set(found) == {"label", "confidence", "xyxy"}
    assert found["label"] == "red_marker"
    assert isinstance(found["confidence"], float)
    assert 0.9 < found["confidence"] <= 1.0
    assert len(found["xyxy"]) == 4
    assert iou(tuple(found["xyxy"]), SQUARE) >= 0.8


def test_unreadable_images_are_named_on_stderr_and_the_rest_still_printed(
    marker_models: dict[str, Path], images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [images["garbage"], images["marker"], images["missing"]]
    status = run_detect(marker_models["red_nms"], paths, as_json=True, confidence=0.25)
    out, err = capsys.readouterr()
    assert status == EXIT_UNREADABLE_IMAGE
    assert list(json.loads(out)) == [str(images["marker"])]
    assert f"cannot read image {images['garbage']}: not an image" in err
    assert f"cannot read image {images['missing']}: No such file" in err


def test_table_lists_labels_and_boxes(
    marker_models: dict[str, Path], images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_detect(
        marker_models["red"], [images["marker"], images["plain"]], as_json=False, confidence=0.25
    )
    lines = capsys.readouterr().out.splitlines()
    assert status == EXIT_OK
    assert lines[0].split() == ["IMAGE", "LABEL", "CONFIDENCE", "X1", "Y1", "X2", "Y2"]
    marker_row = lines[1].split()
    assert marker_row[:2] == [str(images["marker"]), "red_marker"]
    assert [round(float(v)) for v in marker_row[3:]] == list(SQUARE)
    assert lines[2].split() == [str(images["plain"]), "-"]


def test_confidence_option_filters(
    marker_models: dict[str, Path], images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run_detect(marker_models["red"], [images["marker"]], as_json=True, confidence=0.9999)
    assert json.loads(capsys.readouterr().out) == {str(images["marker"]): []}


def test_unusable_model_exits_2_naming_it(
    tmp_path: Path, images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "nothing.onnx"
    status = run_detect(model, [images["marker"]], as_json=True, confidence=0.25)
    out, err = capsys.readouterr()
    assert status == EXIT_BAD_MODEL
    assert out == ""
    assert str(model) in err
