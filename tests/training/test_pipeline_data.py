"""The pipeline's data stage on a tiny run: which folders the training data.yaml lists, and the
extra animal scenes (rodents and cats in every one) that are never a copy of another split's."""

import dataclasses
import hashlib
from pathlib import Path

import cv2
import numpy as np
import yaml

from scenes.classes import KitchenClass, class_id
from scenes.scene import SceneConfig, generate_scene
from training.pipeline import PipelineConfig
from training.pipeline_data import ANIMAL_SPLIT, FOOD_SPLIT, MASK_SPLIT, stage_data

XML = """<annotation><filename>{stem}.png</filename>
<size><width>64</width><height>48</height><depth>3</depth></size>
<object><name>{name}</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>30</xmax><ymax>34</ymax>
</bndbox></object></annotation>"""


def _datasets(root: Path) -> Path:
    """A stand-in for ../shared/datasets: two VOC face photos and one face crop of each kind."""
    if root.exists():
        return root
    voc = root / "face-masks"
    (voc / "annotations").mkdir(parents=True)
    (voc / "images").mkdir()
    picture = np.full((48, 64, 3), 120, dtype=np.uint8)
    for stem, name in (("a", "with_mask"), ("b", "without_mask")):
        (voc / "annotations" / f"{stem}.xml").write_text(XML.format(stem=stem, name=name))
        cv2.imwrite(str(voc / "images" / f"{stem}.png"), picture)
    for kind in ("with_mask", "without_mask"):
        (root / "mask-crops" / kind).mkdir(parents=True)
        cv2.imwrite(str(root / "mask-crops" / kind / "face.png"), picture)
    return root


def _config(
    tmp_path: Path, animal_images: int, mask_images: int = 0, food_images: int = 0
) -> PipelineConfig:
    return PipelineConfig(
        work_dir=tmp_path / "work",
        datasets_dir=_datasets(tmp_path / "datasets"),
        train_images=2,
        val_images=1,
        test_images=1,
        animal_images=animal_images,
        mask_images=mask_images,
        food_images=food_images,
        workers=1,
    )


def _digests(folder: Path) -> set[str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _generated_digests(config: PipelineConfig) -> set[str]:
    """The pictures of the generated train, val and test splits."""
    generated = config.data_dir / "generated" / "images"
    return set().union(*(_digests(generated / split) for split in ("train", "val", "test")))


def _train_folders(config: PipelineConfig) -> list[str]:
    """The data stage run on config: the training folders its data.yaml lists."""
    folders: list[str] = yaml.safe_load(stage_data(config, {}).read_text())["train"]
    return folders


def _changed_fields(usual: SceneConfig, extra: SceneConfig) -> set[str]:
    """The SceneConfig fields an extra-scenes config sets otherwise than the usual one."""
    fields = (f.name for f in dataclasses.fields(usual))
    return {name for name in fields if getattr(usual, name) != getattr(extra, name)}


def test_animal_scenes_are_listed_for_training_and_repeat_no_other_scene(tmp_path: Path) -> None:
    config = _config(tmp_path, animal_images=3)
    train = _train_folders(config)
    animals = config.data_dir / ANIMAL_SPLIT / "images" / ANIMAL_SPLIT
    assert str(animals.resolve()) in train
    assert len(list(animals.iterdir())) == 3
    others = _generated_digests(config)
    assert not _digests(animals) & others


def test_without_animal_scenes_an_earlier_runs_folder_is_not_trained_on(tmp_path: Path) -> None:
    stage_data(_config(tmp_path, animal_images=2), {})
    config = _config(tmp_path, animal_images=0)
    train = _train_folders(config)
    assert not any(ANIMAL_SPLIT in folder for folder in train)
    assert not (config.data_dir / ANIMAL_SPLIT).exists()
    assert len(train) == 1 + config.real_repeat + config.bare_extra_repeat


def test_animal_scenes_hold_more_rodents_and_cats_and_differ_in_nothing_else(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, animal_images=0)
    usual, animal = config.scene_config(), config.animal_scene_config()
    changed = _changed_fields(usual, animal)
    assert changed == {"rodents", "night_rodents", "cat_probability", "dark_clutter"}
    counts = {"usual": 0, "animal": 0}
    for seed in range(12):
        for name, scene_config in (("usual", usual), ("animal", animal)):
            labels = generate_scene(seed, size=320, config=scene_config).labels
            counts[name] += sum(
                label.class_id in (class_id(KitchenClass.RODENT), class_id(KitchenClass.CAT))
                for label in labels
            )
    assert counts["animal"] > 1.5 * counts["usual"]


def test_mask_scenes_are_listed_for_training_beside_the_animal_scenes(tmp_path: Path) -> None:
    config = _config(tmp_path, animal_images=1, mask_images=2)
    train = _train_folders(config)
    masks = config.data_dir / MASK_SPLIT / "images" / MASK_SPLIT
    assert str(masks.resolve()) in train
    assert str((config.data_dir / ANIMAL_SPLIT / "images" / ANIMAL_SPLIT).resolve()) in train
    assert len(list(masks.iterdir())) == 2
    others = _generated_digests(config)
    assert not _digests(masks) & others
    config = _config(tmp_path, animal_images=0, mask_images=0)
    train = _train_folders(config)
    assert str(masks.resolve()) not in train
    assert not (config.data_dir / MASK_SPLIT).exists()


def test_mask_scenes_show_faces_to_a_wall_camera_with_badly_worn_masks(tmp_path: Path) -> None:
    config = _config(tmp_path, animal_images=0)
    usual, masks = config.scene_config(), config.mask_scene_config()
    changed = _changed_fields(usual, masks)
    assert changed == {
        "view",
        "people",
        "masked_probability",
        "bad_mask_wear",
        "real_face_probability",
    }
    faces = {"usual": 0, "masks": 0}
    for seed in range(12):
        for name, scene_config in (("usual", usual), ("masks", masks)):
            labels = generate_scene(seed, size=320, config=scene_config).labels
            faces[name] += sum(
                label.class_id == class_id(KitchenClass.FACE_BARE) for label in labels
            )
    assert faces["masks"] > 1.5 * faces["usual"]


def test_food_scenes_are_listed_for_training_and_removed_when_not_asked(tmp_path: Path) -> None:
    config = _config(tmp_path, animal_images=0, food_images=2)
    train = _train_folders(config)
    food = config.data_dir / FOOD_SPLIT / "images" / FOOD_SPLIT
    assert str(food.resolve()) in train
    assert len(list(food.iterdir())) == 2
    assert not _digests(food) & _generated_digests(config)
    config = _config(tmp_path, animal_images=0, food_images=0)
    train = _train_folders(config)
    assert str(food.resolve()) not in train
    assert not (config.data_dir / FOOD_SPLIT).exists()


def test_food_scenes_hold_more_food_of_both_kinds_than_the_usual_scenes(tmp_path: Path) -> None:
    config = _config(tmp_path, animal_images=0)
    usual, food = config.scene_config(), config.food_scene_config()
    changed = _changed_fields(usual, food)
    assert changed == {"food", "props", "dark_clutter"}
    kinds = (class_id(KitchenClass.FOOD_COVERED), class_id(KitchenClass.FOOD_UNCOVERED))
    counts = {(name, kind): 0 for name in ("usual", "food") for kind in kinds}
    for seed in range(12):
        for name, scene_config in (("usual", usual), ("food", food)):
            for label in generate_scene(seed, size=320, config=scene_config).labels:
                if label.class_id in kinds:
                    counts[name, label.class_id] += 1
    for kind in kinds:
        assert counts["food", kind] > 1.5 * counts["usual", kind]
