"""The service's benchmarks run end to end on tiny loads and record their figures."""

import json
from pathlib import Path

import pytest

from bench import alerts, fanout, ingest

pytestmark = pytest.mark.integration


def test_ingest_bench_records_rates_and_the_ratio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.json"
    assert ingest.main(["--messages", "200", "--results", str(results)]) == 0
    figures = json.loads(results.read_text())
    assert figures["ingest_sqlite_ratio"] == pytest.approx(
        figures["ingest_sqlite_per_s"] / figures["ingest_bare_subscriber_per_s"]
    )
    assert "ingest into sqlite" in capsys.readouterr().out


def test_alerts_bench_records_latency_percentiles(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    assert alerts.main(["--rate", "20", "--seconds", "1", "--results", str(results)]) == 0
    figures = json.loads(results.read_text())
    assert figures["alert_delivered_ratio"] == 1.0
    assert 0 < figures["alert_latency_p50_ms"] <= figures["alert_latency_p95_ms"]


def test_fanout_bench_records_latency_and_cpu(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    argv = ["--viewers", "5", "--fps", "5", "--seconds", "1", "--results", str(results)]
    assert fanout.main(argv) == 0
    figures = json.loads(results.read_text())
    assert figures["fanout_viewers"] == 5
    assert figures["fanout_delivered_ratio"] > 0
    assert figures["fanout_api_cpu_percent"] >= 0
