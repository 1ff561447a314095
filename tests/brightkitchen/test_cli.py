"""The `brightkitchen` command: subcommands reach their packages, errors exit non-zero."""

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MARKER_MODEL = REPO / "models" / "marker" / "model.onnx"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brightkitchen", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | (env or {}),
        check=False,
    )


def test_help_lists_every_subcommand() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for command in (
        "detect",
        "check-config",
        "edge",
        "api",
        "demo",
        "train",
        "eval",
        "export-dataset",
    ):
        assert command in result.stdout


def test_detect_prints_one_json_object_with_pixel_boxes(tmp_path: Path) -> None:
    frame = np.full((360, 640, 3), 90, dtype=np.uint8)
    cv2.rectangle(frame, (400, 100), (460, 160), (20, 20, 230), thickness=-1)  # BGR red
    marked = tmp_path / "marked.png"
    plain = tmp_path / "plain.png"
    cv2.imwrite(str(marked), frame)
    cv2.imwrite(str(plain), np.full((360, 640, 3), 90, dtype=np.uint8))

    result = _run("detect", "--model", str(MARKER_MODEL), str(marked), str(plain), "--json")

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert set(found) == {str(marked), str(plain)}
    assert found[str(plain)] == []
    [detection] = found[str(marked)]
    assert detection["label"] == "red_marker"
    assert np.allclose(detection["xyxy"], [400, 100, 461, 161], atol=8)


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    result = _run(
        "check-config",
        str(REPO / "config" / "edge.example.yaml"),
        env={"CAM_PASSWORD": "x", "EDGE_MQTT_PASSWORD": "y"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok:")


def test_check_config_names_each_bad_key_and_exits_non_zero(tmp_path: Path) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text(
        "site: site/1\n"
        "edge: edge-1\n"
        "cameras:\n"
        "  - {id: cam-1, url: rtsp://viewer:hunter2@10.0.0.1/s, detect_fps: 0}\n"
        "model: {path: nowhere.onnx}\n"
        "mqtt: {host: broker}\n"
        "outbox: {path: outbox.sqlite}\n"
        "colour: blue\n"
    )
    result = _run("check-config", str(config))
    assert result.returncode != 0
    assert "site:" in result.stderr
    assert "cameras.0.detect_fps:" in result.stderr
    assert "colour:" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.parametrize("args", [["edge"], ["detect", "image.png"]])
def test_missing_required_arguments_exit_with_usage(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr
