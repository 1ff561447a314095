"""`make model`: reproduce the shipped kitchen model from scratch, stage by stage.

Stages, each one resumable on its own (`python -m training.pipeline --stage STAGE`):

- data: generated train / val / test scenes (write_yolo_dataset) and the face-mask set converted to
  YOLO with its fixed validation split held out; the real training images are listed real_repeat
  times so they weigh more against the many generated ones;
- train: ultralytics YOLO from scratch for a wall-clock budget (train_hours), checkpoints kept;
- export: best checkpoint -> models/<name>/model.onnx;
- scenarios: held-out scenario videos (seeds never used in training) with their ground truth;
- evaluate: generated test set, face-mask validation split, scenario videos -> a JSON report;
- card: MODEL_CARD.md and the validation grid picture from that report.

Data and runs go under work_dir (var/, git-ignored); only models/<name>/ is meant to be committed.
"""

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scenes.dataset import stderr_progress, write_yolo_dataset
from scenes.scene import SceneConfig
from training.datasets import convert_voc_to_yolo, write_mixed_data_yaml
from training.errors import TrainingError

logger = logging.getLogger(__name__)

STAGES = ("data", "train", "export", "scenarios", "evaluate", "card")


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Everything that decides the shipped model; the card prints it."""

    work_dir: Path = Path("var/kitchen")
    models_dir: Path = Path("models")
    name: str = "kitchen"
    datasets_dir: Path = Path("../shared/datasets")
    imgsz: int = 320
    # head heights for a 640 px frame in SceneConfig: 20-120 there is 10-60 px in a 320 px scene,
    # the size a head has in a 320 px crop of a 640 px camera frame (12-60 px there)
    head_px: tuple[float, float] = (20.0, 120.0)
    people: tuple[int, int] = (0, 6)
    train_images: int = 4000
    val_images: int = 300  # ultralytics' per-epoch validation (checkpoint choice)
    test_images: int = 500  # held out from everything, for the card
    seed: int = 20261128
    real_repeat: int = 2
    train_hours: float = 1.6
    max_epochs: int = 60  # ultralytics re-estimates epochs for train_hours after the first epoch
    batch: int = 16
    workers: int = 2
    scenario_seed: int = 7_000_000  # scenario videos: seeds far from anything used in training
    scenario_count: int = 6
    extra_train_args: dict[str, object] = field(
        default_factory=lambda: {"close_mosaic": 3, "warmup_epochs": 1.0, "patience": 100}
    )

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def runs_dir(self) -> Path:
        return self.work_dir / "runs"

    @property
    def scenarios_dir(self) -> Path:
        return self.work_dir / "scenarios"

    @property
    def report_path(self) -> Path:
        return self.work_dir / "report.json"

    @property
    def model_dir(self) -> Path:
        return self.models_dir / self.name

    def scene_config(self) -> SceneConfig:
        return SceneConfig(
            head_px=self.head_px,
            people=self.people,
            mask_crops_dir=self.datasets_dir / "mask-crops",
        )


def _timed(stage: str, timings: dict[str, float], started: float) -> None:
    timings[stage] = round(time.monotonic() - started, 1)
    logger.info("stage=%s seconds=%.1f", stage, timings[stage])


def stage_data(config: PipelineConfig, timings: dict[str, float]) -> Path:
    """Generated scenes + converted face-masks; returns the training data.yaml."""
    started = time.monotonic()
    generated = config.data_dir / "generated"
    for split, count in (
        ("train", config.train_images),
        ("val", config.val_images),
        ("test", config.test_images),
    ):
        write_yolo_dataset(
            generated,
            count=count,
            seed=config.seed,
            split=split,
            size=config.imgsz,
            config=config.scene_config(),
            progress=stderr_progress(f"scenes {split}"),
            workers=config.workers,
        )
    _timed("data_generate", timings, started)
    started = time.monotonic()
    face_masks = config.data_dir / "face-masks"
    if face_masks.exists():
        shutil.rmtree(face_masks)
    report = convert_voc_to_yolo(config.datasets_dir / "face-masks", face_masks)
    logger.info("face-masks images=%s boxes=%s", dict(report.images), dict(report.boxes))
    train_folders = [generated / "images" / "train"]
    for copy in range(config.real_repeat):
        folder = face_masks / "images" / f"train{copy}"
        labels = face_masks / "labels" / f"train{copy}"
        shutil.copytree(face_masks / "images" / "train", folder)
        shutil.copytree(face_masks / "labels" / "train", labels)
        train_folders.append(folder)
    _timed("data_convert", timings, started)
    return write_mixed_data_yaml(
        config.data_dir / "train.yaml",
        train=train_folders,
        val=[generated / "images" / "val"],
    )


def best_checkpoint(config: PipelineConfig) -> Path:
    weights = config.runs_dir / config.name / "weights"
    for name in ("best.pt", "last.pt"):
        if (weights / name).is_file():
            return weights / name
    raise TrainingError(f"no checkpoint under {weights}; run the train stage first")


def stage_train(config: PipelineConfig, timings: dict[str, float]) -> Path:
    """Train from scratch on data/train.yaml for train_hours; returns the best checkpoint."""
    from training.train import train_checkpoint  # needs the train extra (torch)

    data_yaml = config.data_dir / "train.yaml"
    if not data_yaml.is_file():
        raise TrainingError(f"{data_yaml} does not exist; run the data stage first")
    started = time.monotonic()
    weights = train_checkpoint(
        data_yaml,
        config.runs_dir,
        epochs=config.max_epochs,
        imgsz=config.imgsz,
        name=config.name,
        batch=config.batch,
        workers=config.workers,
        seed=0,
        extra={"time": config.train_hours, **config.extra_train_args},
    )
    _timed("train", timings, started)
    return weights


def _load_timings(config: PipelineConfig) -> dict[str, float]:
    path = config.work_dir / "timings.json"
    if path.is_file():
        loaded: dict[str, float] = json.loads(path.read_text())
        return loaded
    return {}


def _save_timings(config: PipelineConfig, timings: dict[str, float]) -> None:
    """Merged into the file: stages run by other processes meanwhile keep their timings."""
    config.work_dir.mkdir(parents=True, exist_ok=True)
    merged = {**_load_timings(config), **timings}
    (config.work_dir / "timings.json").write_text(json.dumps(merged, indent=2) + "\n")


def run_stages(config: PipelineConfig, stages: Sequence[str]) -> None:
    timings = _load_timings(config)
    for stage in stages:
        if stage == "data":
            stage_data(config, timings)
        elif stage == "train":
            stage_train(config, timings)
        else:
            from training import pipeline_eval  # the later stages, kept in their own module

            pipeline_eval.run_stage(stage, config, timings)
        _save_timings(config, timings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.pipeline", description="Reproduce the shipped kitchen model."
    )
    parser.add_argument(
        "--stage", action="append", choices=STAGES, help="run only these stages (repeatable)"
    )
    parser.add_argument("--work-dir", type=Path)
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--train-hours", type=float)
    parser.add_argument("--train-images", type=int)
    defaults = PipelineConfig()
    parser.set_defaults(
        work_dir=defaults.work_dir,
        models_dir=defaults.models_dir,
        train_hours=defaults.train_hours,
        train_images=defaults.train_images,
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    config = PipelineConfig(
        work_dir=args.work_dir,
        models_dir=args.models_dir,
        train_hours=args.train_hours,
        train_images=args.train_images,
    )
    try:
        run_stages(config, args.stage or STAGES)
    except TrainingError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
