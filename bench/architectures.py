"""Which detector architectures fit the kitchen model's budget: bare onnxruntime time per frame.

The first kitchen model was a YOLOv8n at 320 and could not fit its own training set beyond a mean
AP50 of about 0.83: its misses were heads, faces and rats under 12 px (the shipped model is the
YOLO26n-P2 at 320 this bench chose). The candidates that see small
objects better (a stride-4 P2 head, a larger input, newer nano designs) each cost more per frame;
this builds every candidate with the kitchen classes and random weights (time does not depend on
the weights), exports it to ONNX the way the training pipeline does, and times the bare graphs
interleaved (rounds of every model in turn, so all see the same machine load). It prints each
model's median, its ratio to YOLOv8n at 320 timed in the same run, and that ratio applied to the
issue's reference measurement of YOLOv8n at 320 on this 2-core machine (ISSUE_BARE_MS), against the
20 ms budget, with the ONNX size against the 15 MB budget.

Needs ultralytics, which lives in the training environment:

    .venv-train/bin/python -m bench.architectures [--iterations N] [--threads N] [--work-dir DIR]
"""

import os

# the product never phones home, nor do its benchmarks; before onnxruntime or ultralytics load
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
os.environ["YOLO_OFFLINE"] = "1"

import argparse
import importlib.util
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.results import RESULTS_PATH, record
from bench.training_env import EXIT_MISSING, ultralytics_missing
from detector.onnx import open_session
from scenes.classes import CLASS_NAMES
from training.card_text import ISSUE_BARE_MS, LATENCY_BUDGET_MS

SIZE_BUDGET_MB = 15.0
EXPORT_OPSET = 17  # as training.train.export_onnx
DEFAULT_WORK_DIR = Path("var/bench/architectures")


@dataclass(frozen=True, slots=True)
class Candidate:
    config: str  # an ultralytics model config with its scale letter, e.g. "yolov8n-p2.yaml"
    imgsz: int

    @property
    def name(self) -> str:
        return f"{self.config.removesuffix('.yaml')}@{self.imgsz}"


BASELINE = Candidate("yolov8n.yaml", 320)  # the first kitchen model's, the issue's reference
CANDIDATES = (
    BASELINE,
    Candidate("yolov8n-p2.yaml", 320),
    Candidate("yolov8n.yaml", 384),
    Candidate("yolov8n.yaml", 416),
    Candidate("yolo11n.yaml", 320),
    Candidate("yolo26n.yaml", 320),
    Candidate("yolo26n-p2.yaml", 320),
)


@dataclass(frozen=True, slots=True)
class Timing:
    candidate: Candidate
    median_ms: float
    size_mb: float

    def ratio(self, baseline: "Timing") -> float:
        return self.median_ms / baseline.median_ms

    def projected_ms(self, baseline: "Timing") -> float:
        """This model's time on the machine the issue measured, by its ratio to the baseline."""
        return ISSUE_BARE_MS * self.ratio(baseline)


def export_candidate(candidate: Candidate, work_dir: Path, num_classes: int) -> Path:
    """An ONNX file of the candidate with num_classes classes and random weights."""
    import yaml

    ultralytics = importlib.import_module("ultralytics")
    tasks = importlib.import_module("ultralytics.nn.tasks")
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / f"{candidate.name}.onnx"
    if target.exists():
        return target
    config = tasks.yaml_model_load(candidate.config)  # reads the scale letter from the name
    config["nc"] = num_classes
    config_path = work_dir / candidate.config  # keeps the name, and so the scale letter
    config_path.write_text(yaml.safe_dump(config))
    exported = ultralytics.YOLO(str(config_path)).export(
        format="onnx", imgsz=candidate.imgsz, opset=EXPORT_OPSET, simplify=False, dynamic=False
    )
    Path(str(exported)).replace(target)
    return target


def time_bare(models: Sequence[Path], *, iterations: int, threads: int) -> list[float]:
    """Median milliseconds per run of each model's bare session, timed in interleaved rounds."""
    sessions = []
    for path in models:
        session = open_session(path, threads)
        shape = session.get_inputs()[0].shape
        tensor = np.random.default_rng(0).random((1, 3, shape[2], shape[3]), np.float32)
        feed = {session.get_inputs()[0].name: tensor}
        for _ in range(3):  # warm-up
            session.run(None, feed)
        sessions.append((session, feed))
    seconds: list[list[float]] = [[] for _ in models]
    for _ in range(iterations):
        for times, (session, feed) in zip(seconds, sessions, strict=True):
            start = time.perf_counter()
            session.run(None, feed)
            times.append(time.perf_counter() - start)
    return [1000.0 * statistics.median(times) for times in seconds]


def format_report(timings: Sequence[Timing], baseline: Timing) -> list[str]:
    lines = [
        f"{'model':22} {'ms':>7} {'ratio':>6} {'at the issue ms':>15} {'MB':>5}  budget",
    ]
    for timing in timings:
        projected = timing.projected_ms(baseline)
        fits = projected <= LATENCY_BUDGET_MS and timing.size_mb <= SIZE_BUDGET_MB
        lines.append(
            f"{timing.candidate.name:22} {timing.median_ms:7.1f} {timing.ratio(baseline):6.2f} "
            f"{projected:15.1f} {timing.size_mb:5.1f}  {'fits' if fits else 'over'}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.architectures", description=__doc__)
    parser.add_argument("--iterations", type=int, default=60, help="timed rounds")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="ONNX files")
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="JSON to merge into")
    args = parser.parse_args(argv)
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")
    if ultralytics_missing("bench.architectures"):
        return EXIT_MISSING
    paths = []
    for number, candidate in enumerate(CANDIDATES, start=1):
        print(f"[{number}/{len(CANDIDATES)}] exporting {candidate.name}", flush=True)
        paths.append(export_candidate(candidate, args.work_dir, len(CLASS_NAMES)))
    print(
        f"timing {len(paths)} models, {args.iterations} rounds, {args.threads} threads", flush=True
    )
    medians = time_bare(paths, iterations=args.iterations, threads=args.threads)
    timings = [
        Timing(candidate, median, path.stat().st_size / 1e6)
        for candidate, median, path in zip(CANDIDATES, medians, paths, strict=True)
    ]
    baseline = timings[0]
    print("\n".join(format_report(timings, baseline)))
    print(
        f"ratio: to {baseline.candidate.name} in this run; at the issue: the ratio times "
        f"{ISSUE_BARE_MS} ms, the issue's measurement of {baseline.candidate.name}; "
        f"budget: {LATENCY_BUDGET_MS:g} ms and {SIZE_BUDGET_MB:g} MB"
    )
    record(
        {f"architectures.{t.candidate.name}.ratio": t.ratio(baseline) for t in timings},
        args.results,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
