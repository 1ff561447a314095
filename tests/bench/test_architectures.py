"""The architecture benchmark's own logic: timing real sessions, the report's verdicts, and a
missing ultralytics (exporting the candidates needs the training environment)."""

import importlib.util
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from bench import architectures
from bench.architectures import BASELINE, CANDIDATES, Candidate, Timing, format_report, time_bare
from bench.training_env import EXIT_MISSING
from training.card_text import ISSUE_BARE_MS

MARKER = Path(__file__).resolve().parents[2] / "models" / "marker" / "model.onnx"


def test_the_baseline_is_the_shipped_architecture_and_comes_first() -> None:
    assert CANDIDATES[0] == BASELINE
    assert BASELINE.name == "yolov8n@320"
    assert Candidate("yolov8n-p2.yaml", 384).name == "yolov8n-p2@384"
    assert len({c.name for c in CANDIDATES}) == len(CANDIDATES)


def test_each_model_gets_its_own_median_from_real_sessions() -> None:
    medians = time_bare([MARKER, MARKER], iterations=3, threads=1)

    assert len(medians) == 2
    assert all(median > 0.0 for median in medians)


def test_the_report_projects_each_ratio_onto_the_issue_measurement() -> None:
    baseline = Timing(BASELINE, median_ms=20.0, size_mb=12.1)
    slower = Timing(Candidate("yolov8n-p2.yaml", 320), median_ms=30.0, size_mb=11.9)
    too_slow = Timing(Candidate("yolov8n.yaml", 640), median_ms=80.0, size_mb=12.1)
    too_big = Timing(Candidate("yolov8s.yaml", 320), median_ms=20.0, size_mb=44.6)

    lines = format_report([baseline, slower, too_slow, too_big], baseline)

    assert slower.ratio(baseline) == pytest.approx(1.5)
    assert slower.projected_ms(baseline) == pytest.approx(ISSUE_BARE_MS * 1.5)
    assert lines[1].split()[0] == "yolov8n@320"
    assert lines[1].endswith("fits")
    assert lines[2].split()[:3] == ["yolov8n-p2@320", "30.0", "1.50"]
    assert lines[2].endswith("fits")  # 15.8 ms at the issue's measurement
    assert lines[3].endswith("over")  # 42 ms
    assert lines[4].endswith("over")  # 44.6 MB


def test_it_says_so_when_ultralytics_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "ultralytics" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)

    code = architectures.main(["--work-dir", str(tmp_path), "--results", str(tmp_path / "r.json")])

    assert code == EXIT_MISSING
    assert "ultralytics is not installed" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()
