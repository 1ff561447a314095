"""bench/results.json: figures merged into one flat object."""

import json
from pathlib import Path

import pytest

from bench.results import record


def test_figures_are_merged_across_benchmarks(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    record({"detector_ms_median": 2.5, "detector_overhead_ratio": 1.1}, path)
    record({"ingest_events_per_s": 900, "detector_ms_median": 2.0}, path)
    assert json.loads(path.read_text()) == {
        "detector_ms_median": 2.0,
        "detector_overhead_ratio": 1.1,
        "ingest_events_per_s": 900.0,
    }
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temp file left behind


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, "fast"])
def test_only_finite_numbers_are_recorded(tmp_path: Path, value: object) -> None:
    path = tmp_path / "results.json"
    with pytest.raises(ValueError, match="'x' must be a finite number"):
        record({"x": value}, path)  # type: ignore[dict-item]
    assert not path.exists()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"a": {"nested": 1}}'])
def test_an_unreadable_results_file_is_reported_not_overwritten(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=str(path)):
        record({"x": 1.0}, path)
    assert path.read_text() == content
