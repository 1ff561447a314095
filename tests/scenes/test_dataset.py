"""write_yolo_dataset: YOLO layout, data.yaml in class order, disjoint splits, progress."""

import io
from pathlib import Path

import pytest
import yaml

from scenes.classes import CLASS_NAMES
from scenes.dataset import scene_seed, stderr_progress, write_yolo_dataset
from scenes.errors import DatasetWriteError


def test_writes_images_labels_and_data_yaml(tmp_path: Path) -> None:
    stream = io.StringIO()
    write_yolo_dataset(
        tmp_path,
        count=3,
        seed=5,
        split="train",
        size=(128, 96),
        progress=stderr_progress("train", stream),
    )
    data_yaml = write_yolo_dataset(tmp_path, count=2, seed=5, split="val", size=(128, 96))
    images = sorted((tmp_path / "images" / "train").iterdir())
    labels = sorted((tmp_path / "labels" / "train").iterdir())
    assert (
        [p.stem for p in images]
        == [p.stem for p in labels]
        == ["train_000000", "train_000001", "train_000002"]
    )
    assert len(list((tmp_path / "images" / "val").iterdir())) == 2
    document = yaml.safe_load(data_yaml.read_text())
    assert document["train"] == "images/train"
    assert document["val"] == "images/val"
    assert [document["names"][i] for i in range(len(CLASS_NAMES))] == list(CLASS_NAMES)
    for label_file in labels:
        for line in label_file.read_text().splitlines():
            class_id, *values = line.split()
            assert 0 <= int(class_id) < len(CLASS_NAMES)
            assert all(0.0 <= float(v) <= 1.0 for v in values)
    assert "train 3/3 100.0%" in stream.getvalue()


def test_the_number_of_workers_does_not_change_the_files(tmp_path: Path) -> None:
    write_yolo_dataset(tmp_path / "one", count=3, seed=2, size=(96, 64), workers=1)
    write_yolo_dataset(tmp_path / "two", count=3, seed=2, size=(96, 64), workers=2)
    for kind in ("images", "labels"):
        one = sorted((tmp_path / "one" / kind / "train").iterdir())
        two = sorted((tmp_path / "two" / kind / "train").iterdir())
        assert [p.name for p in one] == [p.name for p in two]
        assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]


def test_splits_never_share_a_scene_seed() -> None:
    train = {scene_seed(7, "train", i) for i in range(500)}
    val = {scene_seed(7, "val", i) for i in range(500)}
    assert not train & val
    assert scene_seed(7, "train", 3) == scene_seed(7, "train", 3)


def test_bad_split_name_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DatasetWriteError, match="split"):
        write_yolo_dataset(tmp_path, count=1, seed=0, split="../x")
