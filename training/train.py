"""Train the kitchen detector with ultralytics YOLO from scratch and export it to ONNX.

Runs offline: YOLO_OFFLINE=1, its settings in a folder of ours, and a local TTF font supplied as the
Arial.ttf it would otherwise download. Needs the optional `train` extra (torch, torchvision,
ultralytics, onnx); nothing else in the project imports this module.
"""

import importlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

import yaml

from training.errors import TrainingError

logger = logging.getLogger(__name__)

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


class _Model(Protocol):
    def train(self, **kwargs: object) -> object: ...
    def export(self, **kwargs: object) -> object: ...


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
    document = yaml.safe_load(data_yaml.read_text())
    root = Path(document.get("path") or data_yaml.parent)
    entries = document["train"] if isinstance(document["train"], list) else [document["train"]]
    suffixes = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
    total = 0
    for entry in entries:
        folder = Path(entry) if Path(entry).is_absolute() else root / entry
        total += sum(1 for p in folder.rglob("*") if p.suffix.lower() in suffixes)
    return total


def train(
    data_yaml: Path,
    out_dir: Path,
    *,
    epochs: int,
    imgsz: int,
    name: str = "kitchen",
    model_yaml: str = "yolov8n.yaml",
    batch: int = 16,
    workers: int = 2,
    device: str = "cpu",
    seed: int = 0,
    models_dir: Path = Path("models"),
    opset: int = 17,
    extra: dict[str, object] | None = None,
) -> TrainResult:
    """Train model_yaml from scratch (no pretrained weights) on data_yaml and export ONNX.

    Training runs go to out_dir/<name>/; the exported model is copied to
    models_dir/<name>/model.onnx (ultralytics writes names, stride and imgsz into its metadata).
    extra is passed to ultralytics' train() as further arguments (mosaic, scale, hsv_h...).
    """
    if not data_yaml.is_file():
        raise TrainingError(f"data_yaml {data_yaml} does not exist")
    if epochs < 1 or imgsz < 32 or imgsz % 32:
        raise TrainingError(
            f"epochs must be >= 1 and imgsz a multiple of 32, got {epochs}, {imgsz}"
        )
    prepare_offline(out_dir / ".ultralytics")
    ultralytics = importlib.import_module("ultralytics")
    model = cast(_Model, ultralytics.YOLO(model_yaml))
    images = _count_images(data_yaml)
    logger.info("training model=%s images=%d epochs=%d imgsz=%d", model_yaml, images, epochs, imgsz)
    started = time.monotonic()
    model.train(
        data=str(data_yaml),
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        workers=workers,
        device=device,
        seed=seed,
        deterministic=True,
        pretrained=False,
        amp=False,
        project=str(out_dir.resolve()),
        name=name,
        exist_ok=True,
        plots=True,
        verbose=True,
        **(extra or {}),
    )
    seconds = time.monotonic() - started
    weights = out_dir.resolve() / name / "weights" / "best.pt"
    if not weights.is_file():
        raise TrainingError(f"training finished without {weights}")
    trained = cast(_Model, ultralytics.YOLO(str(weights)))
    exported = Path(
        str(trained.export(format="onnx", imgsz=imgsz, opset=opset, simplify=False, dynamic=False))
    )
    target = models_dir / name / "model.onnx"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(exported, target)
    logger.info("exported onnx=%s seconds=%.1f", target, seconds)
    return TrainResult(
        weights=weights, onnx=target, epochs=epochs, train_images=images, seconds=seconds
    )
