"""The detector benchmark runs end to end on the marker model and records its figures."""

import json
from pathlib import Path

import pytest

from bench.detector import main
from scenes.marker_model import build_marker_model


def test_benchmark_prints_and_records_the_ratio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "marker.onnx"
    build_marker_model(model)
    results = tmp_path / "results.json"
    assert main(["--model", str(model), "--iterations", "3", "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert f"model: {model} (input 320x320, output raw" in out
    assert "detections in the frame: 1" in out
    figures = json.loads(results.read_text())
    assert figures["detector_overhead_ratio"] == pytest.approx(
        figures["detector_ms_median"] / figures["bare_ort_ms_median"]
    )
    assert figures["detector_input_height_px"] == 320
