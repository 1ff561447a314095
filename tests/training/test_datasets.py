"""VOC -> YOLO conversion with the fixed split, and the label readers, on hand-made files."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from scenes.classes import CLASS_NAMES
from training.datasets import (
    convert_voc_to_yolo,
    copy_images_with_class,
    data_yaml_folders,
    data_yaml_names,
    is_validation,
    load_labelled_images,
    read_voc,
    read_yolo_labels,
    write_mixed_data_yaml,
)
from training.errors import DatasetError

XML = """<annotation>
  <filename>{stem}.png</filename>
  <size><width>100</width><height>50</height><depth>3</depth></size>
  {objects}
</annotation>"""
OBJECT = (
    "<object><name>{name}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
    "<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"
)


def _voc(root: Path, stem: str, objects: list[tuple[str, int, int, int, int]]) -> None:
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(parents=True, exist_ok=True)
    body = "".join(OBJECT.format(name=n, x1=a, y1=b, x2=c, y2=d) for n, a, b, c, d in objects)
    (root / "annotations" / f"{stem}.xml").write_text(XML.format(stem=stem, objects=body))
    cv2.imwrite(str(root / "images" / f"{stem}.png"), np.zeros((50, 100, 3), dtype=np.uint8))


def _stems(split: str, count: int) -> list[str]:
    stems = [f"img{i}" for i in range(200) if is_validation(f"img{i}") == (split == "val")]
    return stems[:count]


def test_split_is_stable_and_about_a_fifth() -> None:
    flags = [is_validation(f"maksssksksss{i}") for i in range(2000)]
    assert 0.17 < sum(flags) / len(flags) < 0.23
    assert flags == [is_validation(f"maksssksksss{i}") for i in range(2000)]


def test_conversion_maps_classes_and_boxes_into_the_fixed_split(tmp_path: Path) -> None:
    source, out = tmp_path / "voc", tmp_path / "yolo"
    train_stem, val_stem = _stems("train", 1)[0], _stems("val", 1)[0]
    _voc(
        source, train_stem, [("with_mask", 11, 6, 30, 25), ("mask_weared_incorrect", 41, 1, 60, 20)]
    )
    _voc(source, val_stem, [("without_mask", 1, 1, 100, 50), ("with_mask", 10, 51, 20, 60)])
    report = convert_voc_to_yolo(source, out)
    assert report.images == {"train": 1, "val": 1}
    assert report.boxes == {"face_masked": 1, "face_bare": 2}
    assert report.skipped_boxes == 1  # below the image: nothing left after clipping
    lines = (out / "labels" / "train" / f"{train_stem}.txt").read_text().splitlines()
    masked, bare = CLASS_NAMES.index("face_masked"), CLASS_NAMES.index("face_bare")
    # VOC corners are 1-based inclusive: xmin 11..xmax 30 covers pixels 10..29, 20 px wide
    assert lines[0] == f"{masked} 0.200000 0.300000 0.200000 0.400000"
    assert lines[1].startswith(f"{bare} ")
    assert (out / "images" / "val" / f"{val_stem}.png").is_file()
    assert (
        out / "labels" / "val" / f"{val_stem}.txt"
    ).read_text() == f"{bare} 0.500000 0.500000 1.000000 1.000000\n"


def test_unknown_voc_class_is_an_error_naming_file_and_class(tmp_path: Path) -> None:
    _voc(tmp_path, "x", [("helmet", 1, 1, 5, 5)])
    with pytest.raises(DatasetError, match=r"x\.xml.*helmet"):
        convert_voc_to_yolo(tmp_path, tmp_path / "out")


def test_malformed_voc_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("<annotation><size><width>1</width></size></annotation>")
    with pytest.raises(DatasetError, match=r"bad\.xml.*height"):
        read_voc(path)


def test_readers_agree_on_voc_and_converted_yolo(tmp_path: Path) -> None:
    source, out = tmp_path / "voc", tmp_path / "yolo"
    for stem in _stems("val", 2) + _stems("train", 2):
        _voc(source, stem, [("with_mask", 11, 6, 30, 25)])
    convert_voc_to_yolo(source, out)
    from_voc = load_labelled_images(source, split="val")
    from_yolo = load_labelled_images(out, split="val")
    assert (
        [item.image.stem for item in from_voc]
        == [item.image.stem for item in from_yolo]
        == sorted(_stems("val", 2))
    )
    for a, b in zip(from_voc, from_yolo, strict=True):
        assert [t.label for t in a.truths] == [t.label for t in b.truths] == ["face_masked"]
        assert a.truths[0].xyxy == pytest.approx(b.truths[0].xyxy, abs=1e-3)
        assert a.truths[0].xyxy == pytest.approx((10.0, 5.0, 30.0, 25.0))


def test_data_yaml_reader(tmp_path: Path) -> None:
    (tmp_path / "images" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "images" / "val" / "a.png"), np.zeros((10, 20, 3), dtype=np.uint8))
    (tmp_path / "labels" / "val" / "a.txt").write_text("1 0.5 0.5 0.5 0.2\n")
    (tmp_path / "data.yaml").write_text("path: .\nval: images/val\nnames: {0: rat, 1: cat}\n")
    (item,) = load_labelled_images(tmp_path / "data.yaml", split="val")
    assert item.truths[0].label == "cat"
    assert item.truths[0].xyxy == pytest.approx((5.0, 4.0, 15.0, 6.0))


def test_data_yaml_folders_resolve_as_ultralytics_does_and_must_exist(tmp_path: Path) -> None:
    (tmp_path / "set" / "a").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    data = tmp_path / "data.yaml"
    data.write_text(f"path: set\ntrain: [a, {tmp_path / 'b'}]\nval: a\nnames: [rat, cat]\n")
    assert data_yaml_folders(data, "train") == (tmp_path / "set" / "a", tmp_path / "b")
    assert data_yaml_folders(data, "val") == (tmp_path / "set" / "a",)
    assert data_yaml_names(data) == ("rat", "cat")
    with pytest.raises(DatasetError, match="no `test` entry"):
        data_yaml_folders(data, "test")
    data.write_text("train: missing\nnames: {0: rat}\n")
    with pytest.raises(DatasetError, match=r"`train` folder .*missing does not exist"):
        data_yaml_folders(data, "train")
    data.write_text("train: [unclosed\n")
    with pytest.raises(DatasetError, match=r"not a readable data\.yaml"):
        data_yaml_names(data)


def test_bad_yolo_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("0 0.5 0.5 0.1 0.1\n99 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DatasetError, match=r"a\.txt:2"):
        read_yolo_labels(path, 10, 10)


def test_mixed_data_yaml_lists_every_folder_and_reads_back(tmp_path: Path) -> None:
    for name in ("synthetic", "real"):
        for split in ("train", "val"):
            (tmp_path / name / "images" / split).mkdir(parents=True)
            (tmp_path / name / "labels" / split).mkdir(parents=True)
    cv2.imwrite(
        str(tmp_path / "real" / "images" / "val" / "r.png"), np.zeros((8, 8, 3), dtype=np.uint8)
    )
    (tmp_path / "real" / "labels" / "val" / "r.txt").write_text("3 0.5 0.5 0.5 0.5\n")
    path = write_mixed_data_yaml(
        tmp_path / "mix" / "data.yaml",
        train=[tmp_path / "synthetic" / "images" / "train", tmp_path / "real" / "images" / "train"],
        val=[tmp_path / "synthetic" / "images" / "val", tmp_path / "real" / "images" / "val"],
    )
    (item,) = load_labelled_images(path, split="val")
    assert item.truths[0].label == "face_masked"
    with pytest.raises(DatasetError, match="missing"):
        write_mixed_data_yaml(tmp_path / "x.yaml", train=[tmp_path / "missing"], val=[tmp_path])


def test_images_holding_a_class_are_copied_with_their_labels(tmp_path: Path) -> None:
    images, labels = tmp_path / "src" / "images" / "train", tmp_path / "src" / "labels" / "train"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    bare, masked = CLASS_NAMES.index("face_bare"), CLASS_NAMES.index("face_masked")
    for stem, lines in (
        ("both", f"{masked} 0.5 0.5 0.2 0.2\n{bare} 0.2 0.2 0.1 0.1\n"),
        ("masked", f"{masked} 0.5 0.5 0.2 0.2\n"),
        ("empty", ""),
        ("bare", f"{bare} 0.5 0.5 0.2 0.2\n"),
    ):
        cv2.imwrite(str(images / f"{stem}.png"), np.zeros((8, 8, 3), dtype=np.uint8))
        (labels / f"{stem}.txt").write_text(lines)
    cv2.imwrite(str(images / "unlabelled.png"), np.zeros((8, 8, 3), dtype=np.uint8))
    out = tmp_path / "src" / "images" / "train_bare"
    assert copy_images_with_class(images, out, "face_bare") == 2
    assert sorted(p.name for p in out.iterdir()) == ["bare.png", "both.png"]
    copied = load_labelled_images(tmp_path / "src", split="train_bare")
    assert [[t.label for t in item.truths] for item in copied] == [
        ["face_bare"],
        ["face_masked", "face_bare"],
    ]
    with pytest.raises(DatasetError, match="'dog'"):
        copy_images_with_class(images, out, "dog")
