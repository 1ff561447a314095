"""The pipeline's later stages: ONNX export, held-out scenario videos, evaluation, model card.

The evaluate stage writes every measured figure to work_dir/report.json; the card stage writes
models/<name>/MODEL_CARD.md and validation_grid.jpg from that report only, so the card never shows
a figure that was not measured by the run that produced it.
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scenes.dataset import stderr_progress
from scenes.scenario import render_scenario
from scenes.timeline import default_scenarios
from training.errors import TrainingError

if TYPE_CHECKING:
    from detector.timing import DetectTiming
    from training.evaluate import ImageSetReport
    from training.pipeline import PipelineConfig

logger = logging.getLogger(__name__)

SCENARIO_SETS = 2  # default_scenarios per set: 6 videos, one event of each kind per set
SCENARIO_FPS = 5  # frames per second of the rendered videos (the evaluation samples 5 per second)
# the same videos as a camera's HD main stream (what the edge decodes from a main-stream URL; 1080p
# main streams are normal in canteens) and as a sub-stream
SCENARIO_STREAMS: dict[str, tuple[int, int]] = {"main": (1280, 720), "sub": (640, 360)}
FACE_MIN_SIZE_PX = 16.0
CONFIDENCES = (0.5, 0.4, 0.3, 0.25)


def stage_export(config: "PipelineConfig", timings: dict[str, float]) -> Path:
    from training.pipeline_train import best_checkpoint
    from training.train import export_with_history

    started = time.monotonic()
    target = export_with_history(
        best_checkpoint(config),
        config.model_dir / "model.onnx",
        imgsz=config.imgsz,
        run_dir=config.runs_dir / config.name,
        warm_start=config.warm_start_checkpoint,
        scratch_command=config.scratch_command(),
    )
    timings["export"] = round(time.monotonic() - started, 1)
    size_mb = target.stat().st_size / 1e6
    logger.info("exported model=%s size_mb=%.1f", target, size_mb)
    if size_mb > 15.0:
        raise TrainingError(f"{target} is {size_mb:.1f} MB, over the 15 MB budget")
    return target


def scenario_folder(config: "PipelineConfig", stream: str) -> Path:
    return config.scenarios_dir / stream


def stage_scenarios(config: "PipelineConfig", timings: dict[str, float]) -> Path:
    """SCENARIO_SETS sets of the default scenarios, seeds config.scenario_seed + 100 k, rendered
    once per SCENARIO_STREAMS size into scenarios_dir/<stream>/."""
    started = time.monotonic()
    scenarios = [
        dataclasses.replace(scenario, name=f"{scenario.name}-set{k}")
        for k in range(SCENARIO_SETS)
        for scenario in default_scenarios(config.scenario_seed + 100 * k)
    ]
    for stream, size in SCENARIO_STREAMS.items():
        folder = scenario_folder(config, stream)
        folder.mkdir(parents=True, exist_ok=True)
        progress = stderr_progress(f"scenario videos {size[0]}x{size[1]}")
        for done, scenario in enumerate(scenarios, start=1):
            render_scenario(scenario, folder, size=size, fps=SCENARIO_FPS)
            progress(done, len(scenarios))
    timings["scenarios"] = round(time.monotonic() - started, 1)
    return config.scenarios_dir


def detect_latency(model: Path, frame_hw: tuple[int, int], *, runs: int = 100) -> "DetectTiming":
    """OnnxDetector.detect (2 threads) on a generated scene of frame_hw, timed in turn with the
    same model in a bare onnxruntime session (detector.timing): medians in ms."""
    from detector.timing import time_detect
    from scenes.scene import generate_scene

    height, width = frame_hw
    image = generate_scene(12345, size=(width, height)).image
    return time_detect(model, image, iterations=runs, threads=2)


def mean_f1(report: "ImageSetReport") -> float:
    scores = []
    for c in report.classes:
        p, r = c.precision or 0.0, c.recall or 0.0
        scores.append(2 * p * r / (p + r) if p + r > 0 else 0.0)
    return sum(scores) / max(len(scores), 1)


def choose_confidence(validation: "list[ImageSetReport]") -> float:
    """The default confidence to ship: the best mean F1 over the classes on the generated
    validation split (never the test split), the higher threshold on a tie."""
    best = max(validation, key=lambda r: (round(mean_f1(r), 3), r.confidence))
    return best.confidence


def stage_evaluate(config: "PipelineConfig", timings: dict[str, float]) -> Path:
    from training.evaluate import evaluate_data
    from training.scenario_eval import evaluate_scenario_folder

    started = time.monotonic()
    model = config.model_dir / "model.onnx"
    if not model.is_file():
        raise TrainingError(f"{model} does not exist; run the export stage first")
    report: dict[str, object] = {"model": str(model), "size_mb": model.stat().st_size / 1e6}
    generated = config.data_dir / "generated"
    validation = evaluate_data(
        model,
        generated,
        split="val",
        confidences=CONFIDENCES,
        progress=stderr_progress("generated val"),
    )
    report["generated_val"] = {str(r.confidence): r.to_dict() for r in validation}
    report["shipped_confidence"] = choose_confidence(validation)
    report["generated_test"] = {
        str(r.confidence): r.to_dict()
        for r in evaluate_data(
            model,
            generated,
            split="test",
            confidences=CONFIDENCES,
            progress=stderr_progress("generated test"),
        )
    }
    report["face_masks_val"] = {
        str(r.confidence): r.to_dict()
        for r in evaluate_data(
            model,
            config.datasets_dir / "face-masks",
            split="val",
            confidences=CONFIDENCES,
            min_size_px=FACE_MIN_SIZE_PX,
            classes=("face_bare", "face_masked"),
            progress=stderr_progress("face-masks val"),
        )
    }
    for key, stream, tiled in (
        ("scenarios", "main", True),
        ("scenarios_substream", "sub", True),
        ("scenarios_whole_frame", "sub", False),
    ):
        folder = scenario_folder(config, stream)
        if not folder.is_dir():
            raise TrainingError(f"{folder} does not exist; run the scenarios stage first")
        what = f"{stream} stream, {'tiles' if tiled else 'whole frames'}"
        report[key] = {
            str(r.confidence): r.to_dict()
            for r in evaluate_scenario_folder(
                model,
                folder,
                confidences=CONFIDENCES,
                tiled=tiled,
                progress=stderr_progress(f"scenarios, {what}"),
            )
        }
    on_input = detect_latency(model, (config.imgsz, config.imgsz))
    on_frame = detect_latency(model, (360, 640))
    report["latency_ms"] = {
        "input_320x320": on_input.detect_ms_median,
        "frame_640x360": on_frame.detect_ms_median,
        # the same graph in a bare session, timed in turn with detect: how fast the machine was
        "bare_onnxruntime": on_input.bare_ms_median,
        "load_avg_1min": os.getloadavg()[0],  # how busy the 2 cores were while it was measured
    }
    timings["evaluate"] = round(time.monotonic() - started, 1)
    config.report_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    logger.info("report=%s", config.report_path)
    return config.report_path


def stage_card(config: "PipelineConfig", timings: dict[str, float]) -> Path:
    from training.model_card import write_model_card, write_validation_grid

    if not config.report_path.is_file():
        raise TrainingError(f"{config.report_path} does not exist; run the evaluate stage first")
    report = json.loads(config.report_path.read_text())
    write_validation_grid(
        config.model_dir / "model.onnx",
        config.data_dir / "generated",
        config.datasets_dir / "face-masks",
        config.model_dir / "validation_grid.jpg",
        confidence=float(report["shipped_confidence"]),
    )
    return write_model_card(config, report, timings, config.model_dir / "MODEL_CARD.md")


def run_stage(stage: str, config: "PipelineConfig", timings: dict[str, float]) -> None:
    stages = {
        "export": stage_export,
        "scenarios": stage_scenarios,
        "evaluate": stage_evaluate,
        "card": stage_card,
    }
    if stage not in stages:
        raise TrainingError(f"unknown stage {stage!r}; known: {', '.join(stages)}")
    stages[stage](config, timings)
