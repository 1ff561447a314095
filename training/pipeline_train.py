"""The pipeline's train stage: ultralytics from scratch, or warm-started from a shipped model."""

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from training.errors import TrainingError
from training.pipeline_data import record_time
from training.provenance import DEFAULT_ARCHITECTURE

if TYPE_CHECKING:
    from training.pipeline import PipelineConfig

logger = logging.getLogger(__name__)


def best_checkpoint(config: "PipelineConfig") -> Path:
    weights = config.runs_dir / config.name / "weights"
    for name in ("best.pt", "last.pt"):
        if (weights / name).is_file():
            return weights / name
    raise TrainingError(f"no checkpoint under {weights}; run the train stage first")


def warm_start_weights(config: "PipelineConfig", timings: dict[str, float]) -> Path | None:
    """The checkpoint to start from: None from scratch, an ONNX export rebuilt (and checked
    against onnxruntime) into config.warm_start_checkpoint, or a given .pt."""
    if config.warm_start is None:
        return None
    if config.warm_start.suffix != ".onnx":
        if not config.warm_start.is_file():
            raise TrainingError(f"warm start {config.warm_start} does not exist")
        return config.warm_start
    from training.warm_start_run import prepare_warm_start  # needs the train extra (torch)

    started = time.monotonic()
    generated, face_masks = config.data_dir / "generated", config.data_dir / "face-masks"
    checkpoint = prepare_warm_start(
        config.warm_start,
        config.warm_start_checkpoint,
        image_folders=[generated / "images" / "train", face_masks / "images" / "train"],
        check_folders=[generated / "images" / "val", face_masks / "images" / "val"],
        imgsz=config.imgsz,
        calibration_count=config.warm_start_calibration_images,
    )
    record_time("warm_start", timings, started)
    return checkpoint


def stage_train(config: "PipelineConfig", timings: dict[str, float]) -> Path:
    """Train on data/train.yaml for train_hours, from scratch or from config.warm_start; returns
    the best checkpoint."""
    from training.train import prepare_offline, train_checkpoint  # train needs torch

    data_yaml = config.train_data or config.data_dir / "train.yaml"
    if not data_yaml.is_file():
        raise TrainingError(f"{data_yaml} does not exist; run the data stage first")
    if config.warm_start is not None and config.architecture != DEFAULT_ARCHITECTURE:
        raise TrainingError(
            f"architecture {config.architecture} applies to a run from scratch; a warm start "
            f"continues the architecture of {config.warm_start}"
        )
    weights_from = warm_start_weights(config, timings)
    if config.prepare_only:
        prepare_offline(config.runs_dir / ".ultralytics")  # the font, for a machine without one
        logger.info("prepared warm_start=%s for a training run elsewhere", weights_from)
        return weights_from or data_yaml
    started = time.monotonic()
    weights = train_checkpoint(
        data_yaml,
        config.runs_dir,
        epochs=config.max_epochs,
        imgsz=config.imgsz,
        name=config.name,
        model_yaml=config.architecture,
        batch=config.batch,
        workers=config.workers,
        device=config.device,
        seed=0,
        extra={"time": config.train_hours, "plots": config.plots, **config.extra_train_args},
        weights=weights_from,
        command=config.command,
    )
    record_time("train", timings, started)
    return weights
