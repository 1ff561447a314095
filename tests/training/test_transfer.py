"""Packing the training data to move it: each distinct image once, as WebP, listed as often as the
data.yaml lists it, with its label, under a data.yaml that is relative to itself."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from training.datasets import write_mixed_data_yaml
from training.errors import DatasetError
from training.transfer import main, pack_training_data


def _yolo_folder(root: Path, split: str, images: dict[str, tuple[int, str]]) -> Path:
    """images: file stem -> (grey level, label text)."""
    folder, labels = root / "images" / split, root / "labels" / split
    folder.mkdir(parents=True)
    labels.mkdir(parents=True)
    for stem, (level, label) in images.items():
        pixels = np.full((48, 64, 3), level, np.uint8)
        pixels[10:30, 20:40] = 255 - level
        cv2.imwrite(str(folder / f"{stem}.jpg"), pixels)
        (labels / f"{stem}.txt").write_text(label)
    return folder


def _data(tmp_path: Path) -> Path:
    generated = _yolo_folder(
        tmp_path / "generated", "train", {"a": (20, "0 0.5 0.4 0.3 0.4\n"), "b": (90, "")}
    )
    real = _yolo_folder(tmp_path / "real", "train", {"r": (150, "4 0.5 0.5 0.2 0.2\n")})
    real_again = _yolo_folder(tmp_path / "real", "train0", {"r": (150, "4 0.5 0.5 0.2 0.2\n")})
    val = _yolo_folder(tmp_path / "generated", "val", {"v": (200, "5 0.1 0.1 0.1 0.1\n")})
    return write_mixed_data_yaml(
        tmp_path / "train.yaml", train=[generated, real, real_again], val=[val]
    )


def test_the_pack_holds_each_image_once_and_lists_it_as_often_as_before(tmp_path: Path) -> None:
    report = pack_training_data(_data(tmp_path), tmp_path / "pack", quality=80)
    pack = tmp_path / "pack"
    assert report.listed == {"train": 4, "val": 1}
    assert report.distinct == 4  # the real photo listed twice is one file
    train = (pack / "train.txt").read_text().split()
    assert len(train) == 4
    assert len(set(train)) == 3
    for line in train + (pack / "val.txt").read_text().split():
        image = pack / line.removeprefix("./")
        assert image.suffix == ".webp"
        assert cv2.imread(str(image)) is not None
        assert (pack / "labels" / f"{image.stem}.txt").is_file()
    repeated = next(line for line in train if train.count(line) == 2)
    stem = Path(repeated).stem
    assert (pack / "labels" / f"{stem}.txt").read_text() == "4 0.5 0.5 0.2 0.2\n"
    document = yaml.safe_load((pack / "data.yaml").read_text())
    assert (document["train"], document["val"]) == ("train.txt", "val.txt")
    assert "path" not in document  # relative to the data.yaml, wherever the pack lands
    assert document["names"][4] == "face_bare"
    assert report.bytes == sum(p.stat().st_size for p in pack.rglob("*") if p.is_file())


def test_the_webp_copy_keeps_the_picture(tmp_path: Path) -> None:
    pack_training_data(_data(tmp_path), tmp_path / "pack", quality=75)
    first = (tmp_path / "pack" / "val.txt").read_text().split()[0].removeprefix("./")
    packed = cv2.imread(str(tmp_path / "pack" / first))
    original = cv2.imread(str(tmp_path / "generated" / "images" / "val" / "v.jpg"))
    assert packed is not None
    assert original is not None
    assert np.abs(packed.astype(int) - original.astype(int)).mean() < 3.0


def test_bad_input_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _data(tmp_path)
    with pytest.raises(DatasetError, match="quality"):
        pack_training_data(data, tmp_path / "pack", quality=0)
    assert main(["--data", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "p")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    document = yaml.safe_load(data.read_text())
    document["val"] = [str(tmp_path / "gone" / "images" / "val")]
    data.write_text(yaml.safe_dump(document))
    with pytest.raises(DatasetError, match="gone"):
        pack_training_data(data, tmp_path / "pack2")
