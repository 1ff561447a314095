"""The edge benchmarks' own logic: verdicts, memory per camera, and a missing ultralytics."""

import importlib.util
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from bench import detector_vs_ultralytics
from bench.edge_capacity import Run, rss_slope_mib
from bench.edge_latency import percentile
from bench.training_env import EXIT_MISSING


def run(
    cameras: int, *, rss_mib: float = 100.0, skipped_busy: int = 0, read_fps: float = 10.0
) -> Run:
    return Run(
        cameras=cameras,
        gated=True,
        wall_s=20.0,
        cpu_s=4.0,
        skipped_busy=skipped_busy,
        slowest_read_fps=read_fps,
        slowest_sampled_fps=5.0,
        detector_runs_per_s=10.0,
        inferences_per_s=10.0,
        mean_latency_ms=3.0,
        mean_wait_ms=1.0,
        long_waits=0,
        rss_mib=rss_mib,
        rss_before_mib=90.0,
    )


def test_a_run_is_sustained_only_without_busy_skips_and_at_the_stream_rate() -> None:
    assert run(8).sustained
    assert not run(8, skipped_busy=1).sustained
    assert not run(8, read_fps=8.0).sustained
    assert run(8).cpu_per_camera == pytest.approx(4.0 / 20.0 / 8)


def test_rss_per_camera_is_the_slope_over_the_runs() -> None:
    runs = [run(4, rss_mib=200.0), run(8, rss_mib=240.0), run(12, rss_mib=280.0)]

    assert rss_slope_mib(runs) == pytest.approx(10.0)
    assert rss_slope_mib(runs[:1]) == pytest.approx((200.0 - 90.0) / 4)


def test_percentile_picks_from_the_sorted_values() -> None:
    values = [float(v) for v in range(100, 0, -1)]

    assert percentile(values, 0.5) == 51.0  # rounds half to even on 49.5
    assert percentile(values, 0.95) == 95.0
    assert percentile([7.0], 0.95) == 7.0


def test_the_ultralytics_comparison_says_so_when_ultralytics_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "ultralytics" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)

    code = detector_vs_ultralytics.main(["--model", str(Path(__file__))])

    assert code == EXIT_MISSING
    assert "ultralytics is not installed" in capsys.readouterr().err
