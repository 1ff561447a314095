"""`brightkitchen eval --data` on a tiny labelled set, with the hand-built marker model."""

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from scenes.marker_model import build_marker_model
from training.cli import run_eval
from training.evaluate import evaluate_data, format_table

RED_BGR = (20, 20, 230)
GREY_BGR = (120, 130, 125)


@pytest.fixture(scope="module")
def marker_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "marker.onnx"
    build_marker_model(path, class_names=("red_marker",))
    return path


def _labelled_set(root: Path) -> Path:
    """Four 320x320 images: three with a red square (labelled), one plain; plus a label for a
    square that is not drawn (a miss every model makes), in YOLO layout with a data.yaml."""
    (root / "images" / "val").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    squares = {
        "a": [(40, 40, 100, 100)],
        "b": [(150, 200, 230, 280)],
        "c": [(10, 180, 70, 240)],
        "d": [],
    }
    for stem, boxes in squares.items():
        image = np.full((320, 320, 3), GREY_BGR, np.uint8)
        lines = []
        for x1, y1, x2, y2 in boxes:
            image[y1:y2, x1:x2] = RED_BGR
            lines.append(
                f"0 {(x1 + x2) / 640:.6f} {(y1 + y2) / 640:.6f} {(x2 - x1) / 320:.6f} "
                f"{(y2 - y1) / 320:.6f}"
            )
        if stem == "d":  # labelled but not drawn: a false negative
            lines.append("0 0.5 0.5 0.2 0.2")
        cv2.imwrite(str(root / "images" / "val" / f"{stem}.png"), image)
        (root / "labels" / "val" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    data = root / "data.yaml"
    data.write_text(f"path: {root}\nval: images/val\nnames:\n  0: red_marker\n")
    return data


def test_eval_data_reports_precision_recall_and_ap50(marker_model: Path, tmp_path: Path) -> None:
    data = _labelled_set(tmp_path)
    (report,) = evaluate_data(marker_model, data, confidences=(0.5,))
    (row,) = report.classes
    assert row.label == "red_marker"
    assert (row.ground_truth, row.true_positives, row.false_positives) == (4, 3, 0)
    assert row.precision == 1.0
    assert row.recall == pytest.approx(0.75)
    assert row.ap50 == pytest.approx(0.75)
    table = format_table(report)
    assert "red_marker" in table
    assert "0.750" in table


def test_eval_cli_prints_a_table_or_json(
    marker_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _labelled_set(tmp_path)
    out = io.StringIO()
    assert run_eval(marker_model, data, None, as_json=True, out=out) == 0
    document = json.loads(out.getvalue())
    assert document["images"] == 4
    assert document["classes"]["red_marker"]["recall"] == pytest.approx(0.75)
    # every square is 60 px or more: all in the last size bin, the undrawn one missed
    sizes = {row["low_px"]: row for row in document["size_recall"]}
    assert (sizes[40.0]["ground_truth"], sizes[40.0]["found"]) == (4, 3)
    assert sizes[40.0]["recall"] == pytest.approx(0.75)
    assert sizes[0.0]["ground_truth"] == 0
    assert sizes[0.0]["recall"] is None
    # the undrawn square is the one miss: nothing at all was predicted there
    errors = document["confusion"]["red_marker"]
    assert (errors["missed"], errors["unseen"], errors["read_as"]) == (1, 1, {})
    assert errors["false_boxes"] == 0
    out = io.StringIO()
    assert run_eval(marker_model, data, None, as_json=True, min_size_px=70.0, out=out) == 0
    # boxes under 70 px (the 60 px squares, the undrawn 64 px one) are ignored: only the 80 px
    # square counts, and the boxes found on the ignored squares are not false positives
    row = json.loads(out.getvalue())["classes"]["red_marker"]
    assert (row["ground_truth"], row["true_positives"], row["false_positives"]) == (1, 1, 0)
    out = io.StringIO()
    assert run_eval(marker_model, data, None, out=out) == 0
    assert "red_marker" in out.getvalue()
    assert "0.750" in out.getvalue()
    assert "by a box's shorter side" not in out.getvalue()
    out = io.StringIO()
    assert run_eval(marker_model, data, None, by_size=True, out=out) == 0
    size_table = out.getvalue().split("by a box's shorter side")[1].splitlines()
    assert size_table[1].split() == ["class", "<8", "8-12", "12-16", "16-24", "24-40", ">=40"]
    assert size_table[2].split() == ["red_marker", "-", "-", "-", "-", "-", "0.75", "(4)"]
    assert "errors at confidence" not in out.getvalue()
    out = io.StringIO()
    assert run_eval(marker_model, data, None, with_confusion=True, out=out) == 0
    errors_table = out.getvalue().split("errors at confidence")[1].splitlines()
    assert errors_table[1].split()[:7] == [
        "class",
        "fn",
        "read",
        "as",
        "below",
        "neighbour",
        "unseen",
    ]
    assert errors_table[2].split() == ["red_marker", "1", "-", "0", "0", "1", "0", "-", "0", "0"]


def test_eval_cli_names_a_missing_data_path(
    marker_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_eval(marker_model, tmp_path / "nope", None, out=io.StringIO()) == 2
    assert str(tmp_path / "nope") in capsys.readouterr().err


def test_eval_cli_wants_exactly_one_source(
    marker_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_eval(marker_model, None, None, out=io.StringIO()) == 2
    assert "exactly one" in capsys.readouterr().err
