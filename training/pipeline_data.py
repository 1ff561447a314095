"""The pipeline's data stage: generated scenes and the converted face-mask set, mixed into the
training data.yaml (training.pipeline runs it; PipelineConfig says how much of each)."""

import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scenes.classes import KitchenClass
from scenes.dataset import stderr_progress, write_yolo_dataset
from scenes.scene import SceneConfig
from training.datasets import convert_voc_to_yolo, copy_images_with_class, write_mixed_data_yaml

if TYPE_CHECKING:
    from training.pipeline import PipelineConfig

logger = logging.getLogger(__name__)

# the split name seeds the scenes (scenes.dataset.scene_seed): animal scenes never repeat a
# train, val or test scene
ANIMAL_SPLIT = "animals"
MASK_SPLIT = "mask_wear"
FOOD_SPLIT = "food_clutter"


def record_time(stage: str, timings: dict[str, float], started: float) -> None:
    timings[stage] = round(time.monotonic() - started, 1)
    logger.info("stage=%s seconds=%.1f", stage, timings[stage])


def stage_data(config: "PipelineConfig", timings: dict[str, float]) -> Path:
    """Generated scenes (and the extra animal, mask and food scenes) + converted face-masks;
    returns the training data.yaml."""
    started = time.monotonic()
    generated = config.data_dir / "generated"
    for split, count in (
        ("train", config.train_images),
        ("val", config.val_images),
        ("test", config.test_images),
    ):
        _write_scenes(config, generated, split, count, config.scene_config())
    extras = [
        _extra_scenes(config, split, count, scenes)
        for split, count, scenes in (
            (ANIMAL_SPLIT, config.animal_images, config.animal_scene_config()),
            (MASK_SPLIT, config.mask_images, config.mask_scene_config()),
            (FOOD_SPLIT, config.food_images, config.food_scene_config()),
        )
    ]
    record_time("data_generate", timings, started)
    started = time.monotonic()
    train_folders = [generated / "images" / "train", *_face_masks(config)]
    record_time("data_convert", timings, started)
    train_folders.extend(folder for folder in extras if folder is not None)
    return write_mixed_data_yaml(
        config.data_dir / "train.yaml",
        train=train_folders,
        val=[generated / "images" / "val"],
    )


def _extra_scenes(
    config: "PipelineConfig", split: str, count: int, scenes: SceneConfig
) -> Path | None:
    """count more training scenes of their own kind (the animal, mask or food scenes) in
    data_dir/<split>/ (none: no folder; what an earlier run wrote is removed, never trained on
    by accident)."""
    out = config.data_dir / split
    if out.exists():
        shutil.rmtree(out)
    if count == 0:
        return None
    _write_scenes(config, out, split, count, scenes)
    return out / "images" / split


def _write_scenes(
    config: "PipelineConfig", out: Path, split: str, count: int, scenes: SceneConfig
) -> None:
    write_yolo_dataset(
        out,
        count=count,
        seed=config.seed,
        split=split,
        size=config.imgsz,
        config=scenes,
        progress=stderr_progress(f"scenes {split}"),
        workers=config.workers,
    )


def _face_masks(config: "PipelineConfig") -> list[Path]:
    """The face-mask set in YOLO layout, its training split listed real_repeat times and its
    images with an unmasked face bare_extra_repeat times more; returns those folders."""
    face_masks = config.data_dir / "face-masks"
    if face_masks.exists():
        shutil.rmtree(face_masks)
    report = convert_voc_to_yolo(config.datasets_dir / "face-masks", face_masks)
    logger.info("face-masks images=%s boxes=%s", dict(report.images), dict(report.boxes))
    folders = []
    for copy in range(config.real_repeat):
        folder = face_masks / "images" / f"train{copy}"
        labels = face_masks / "labels" / f"train{copy}"
        shutil.copytree(face_masks / "images" / "train", folder)
        shutil.copytree(face_masks / "labels" / "train", labels)
        folders.append(folder)
    for copy in range(config.bare_extra_repeat):
        folder = face_masks / "images" / f"train_bare{copy}"
        count = copy_images_with_class(
            face_masks / "images" / "train", folder, KitchenClass.FACE_BARE.value
        )
        logger.info("face-masks images with face_bare listed again: %d", count)
        folders.append(folder)
    return folders
