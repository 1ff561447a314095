"""Train the kitchen detector with ultralytics YOLO (from scratch, or on from a checkpoint such as
training.warm_start builds) and export it to ONNX.

Runs offline: YOLO_OFFLINE=1, its settings in a folder of ours, and a local TTF font supplied as the
Arial.ttf it would otherwise download. Needs the optional `train` extra (torch, torchvision,
ultralytics, onnx); nothing else in the project imports this module.
"""

import importlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from training.datasets import IMAGE_SUFFIXES, data_yaml_folders
from training.errors import TrainingError
from training.provenance import DEFAULT_ARCHITECTURE, training_history, write_history

logger = logging.getLogger(__name__)

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


class _Model(Protocol):
    def train(self, **kwargs: object) -> object: ...
    def export(self, **kwargs: object) -> object: ...
    def add_callback(self, event: str, func: Callable[[object], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class TrainResult:
    weights: Path  # best.pt
    onnx: Path  # models/<name>/model.onnx
    epochs: int
    train_images: int
    seconds: float

    @property
    def seconds_per_epoch_per_image(self) -> float:
        return self.seconds / max(self.epochs * self.train_images, 1)


def prepare_offline(config_dir: Path) -> None:
    """Environment for ultralytics with no network: call before importing ultralytics."""
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    if all((config_dir / name).is_file() for name in FONT_NAMES):
        return  # supplied before (or carried along to a machine without fonts-dejavu-core)
    font = next((path for path in FONT_CANDIDATES if path.is_file()), None)
    if font is None:
        raise TrainingError(
            "no local TTF font found (looked for "
            + ", ".join(str(p) for p in FONT_CANDIDATES)
            + "); install fonts-dejavu-core"
        )
    for name in FONT_NAMES:
        target = config_dir / name
        if not target.is_file():
            shutil.copyfile(font, target)


def _count_images(data_yaml: Path) -> int:
    return sum(
        1
        for folder in data_yaml_folders(data_yaml, "train")
        for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES
    )


def _use_all_cores(model: _Model) -> None:
    """Train on every core. ultralytics sets torch to min(8, cores - 1) threads when it picks the
    CPU (ultralytics.utils.NUM_THREADS, meant to leave a core for its data loaders), but it also
    turns data-loader workers off on the CPU: on a 2-core machine that trained on one thread, at
    half the speed (2.5 s against 1.2 s per batch of 16 at 320 here)."""
    torch = importlib.import_module("torch")  # the train extra
    threads = os.cpu_count() or 1

    def restore(_trainer: object) -> None:
        torch.set_num_threads(threads)

    model.add_callback("on_pretrain_routine_end", restore)
    model.add_callback("on_train_epoch_start", restore)


def machine_name(device: str) -> str:
    """What trains: the GPU's name for a CUDA device, else the CPU and its core count."""
    torch = importlib.import_module("torch")  # the train extra
    first = device.split(",")[0].removeprefix("cuda:")
    if device != "cpu" and torch.cuda.is_available():
        return str(torch.cuda.get_device_name(int(first) if first.isdigit() else 0))
    return f"CPU ({os.cpu_count()} cores)"


def record_run(run_dir: Path, *, device: str, command: str | None) -> Path:
    """run.json beside ultralytics' args.yaml: the machine, library versions and command."""
    torch = importlib.import_module("torch")
    ultralytics = importlib.import_module("ultralytics")
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "machine": machine_name(device),
        "torch": str(torch.__version__),
        "ultralytics": str(getattr(ultralytics, "__version__", "?")),
        "command": command,
    }
    path = run_dir / "run.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def train_checkpoint(
    data_yaml: Path,
    out_dir: Path,
    *,
    epochs: int,
    imgsz: int,
    name: str = "kitchen",
    model_yaml: str = DEFAULT_ARCHITECTURE,
    batch: int = 16,
    workers: int = 2,
    device: str = "cpu",
    seed: int = 0,
    extra: dict[str, object] | None = None,
    weights: Path | None = None,
    command: str | None = None,
) -> Path:
    """Train model_yaml from scratch (no pretrained weights) on data_yaml; returns best.pt.

    With weights (a checkpoint, e.g. from training.warm_start), training starts from those
    weights instead. Training runs go to out_dir/<name>/ (weights/best.pt and last.pt are saved
    every epoch, so a run stopped early still leaves a checkpoint to export). extra is passed to
    ultralytics' train() as further arguments (time, mosaic, close_mosaic, plots...); it
    overrides the settings here. The machine and the command (when given) are recorded in
    out_dir/<name>/run.json for the model card.
    """
    if not data_yaml.is_file():
        raise TrainingError(f"data_yaml {data_yaml} does not exist")
    if epochs < 1 or imgsz < 32 or imgsz % 32:
        raise TrainingError(
            f"epochs must be >= 1 and imgsz a multiple of 32, got {epochs}, {imgsz}"
        )
    if weights is not None and not weights.is_file():
        raise TrainingError(f"weights {weights} do not exist")
    prepare_offline(out_dir / ".ultralytics")
    ultralytics = importlib.import_module("ultralytics")
    source = model_yaml if weights is None else str(weights)
    model = cast(_Model, ultralytics.YOLO(source))
    _use_all_cores(model)
    images = _count_images(data_yaml)
    logger.info("training model=%s images=%d epochs=%d imgsz=%d", source, images, epochs, imgsz)
    record_run(out_dir.resolve() / name, device=device, command=command)
    settings: dict[str, object] = {
        "data": str(data_yaml),
        "epochs": epochs,
        "imgsz": imgsz,
        "batch": batch,
        "workers": workers,
        "device": device,
        "seed": seed,
        "deterministic": True,
        "pretrained": weights is not None,  # False would drop the loaded weights
        "amp": False,
        "project": str(out_dir.resolve()),
        "name": name,
        "exist_ok": True,
        "plots": True,
        "verbose": True,
    }
    model.train(**{**settings, **(extra or {})})
    weights = out_dir.resolve() / name / "weights" / "best.pt"
    if not weights.is_file():
        raise TrainingError(f"training finished without {weights}")
    return weights


def export_with_history(
    weights: Path,
    target: Path,
    *,
    imgsz: int,
    run_dir: Path,
    warm_start: Path | None,
    scratch_command: str,
    opset: int = 17,
) -> Path:
    """export_onnx, then store in the file the runs that made it (training_history of run_dir,
    continuing those of the warm_start checkpoint's record), so that a later warm start from the
    file knows what it continues."""
    exported = export_onnx(weights, target, imgsz=imgsz, opset=opset)
    write_history(exported, training_history(run_dir, warm_start, scratch_command=scratch_command))
    return exported


def export_onnx(weights: Path, target: Path, *, imgsz: int, opset: int = 17) -> Path:
    """Export a checkpoint to ONNX (ultralytics writes names, stride and imgsz into the metadata)
    and copy it to target."""
    if not weights.is_file():
        raise TrainingError(f"checkpoint {weights} does not exist")
    prepare_offline(weights.parent / ".ultralytics")
    ultralytics = importlib.import_module("ultralytics")
    trained = cast(_Model, ultralytics.YOLO(str(weights)))
    exported = Path(
        str(trained.export(format="onnx", imgsz=imgsz, opset=opset, simplify=False, dynamic=False))
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(exported, target)
    logger.info("exported onnx=%s from=%s", target, weights)
    return target


def train(
    data_yaml: Path,
    out_dir: Path,
    *,
    epochs: int,
    imgsz: int,
    name: str = "kitchen",
    model_yaml: str = DEFAULT_ARCHITECTURE,
    batch: int = 16,
    workers: int = 2,
    device: str = "cpu",
    seed: int = 0,
    models_dir: Path = Path("models"),
    opset: int = 17,
    extra: dict[str, object] | None = None,
    weights: Path | None = None,
    command: str | None = None,
) -> TrainResult:
    """Train model_yaml from scratch on data_yaml, or from weights (a checkpoint, e.g. from
    training.warm_start_run); export ONNX to models_dir/<name>/model.onnx with the run's history
    in it (export_with_history)."""
    started = time.monotonic()
    best = train_checkpoint(
        data_yaml,
        out_dir,
        epochs=epochs,
        imgsz=imgsz,
        name=name,
        model_yaml=model_yaml,
        batch=batch,
        workers=workers,
        device=device,
        seed=seed,
        extra=extra,
        weights=weights,
        command=command,
    )
    seconds = time.monotonic() - started
    target = export_with_history(
        best,
        models_dir / name / "model.onnx",
        imgsz=imgsz,
        opset=opset,
        run_dir=out_dir.resolve() / name,
        warm_start=weights,
        scratch_command=command or "?",
    )
    return TrainResult(
        weights=best,
        onnx=target,
        epochs=epochs,
        train_images=_count_images(data_yaml),
        seconds=seconds,
    )
