"""Datasets: Pascal VOC -> YOLO conversion with a fixed validation split, and label readers.

The face-mask set (VOC xml per image) maps onto the kitchen classes with FACE_MASK_CLASSES:
with_mask -> face_masked; without_mask and mask_weared_incorrect -> face_bare (a mask worn under the
nose is no mask). Its validation split is fixed by `is_validation(stem)`: a CRC-32 of the file stem,
so the same images are held out on every machine and in every run, whatever the file order.
"""

import shutil
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import yaml

from scenes.classes import CLASS_NAMES, KitchenClass
from training.errors import DatasetError
from training.metrics import GroundTruth

FACE_MASK_CLASSES: Mapping[str, str] = {
    "with_mask": KitchenClass.FACE_MASKED.value,
    "without_mask": KitchenClass.FACE_BARE.value,
    "mask_weared_incorrect": KitchenClass.FACE_BARE.value,
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VAL_FRACTION = 0.2


def is_validation(stem: str, fraction: float = VAL_FRACTION) -> bool:
    """Whether the file with this stem belongs to the validation split (stable across machines)."""
    return zlib.crc32(stem.encode("utf-8")) % 10_000 < round(fraction * 10_000)


@dataclass(frozen=True, slots=True)
class VocAnnotation:
    filename: str
    width: int
    height: int
    objects: tuple[GroundTruth, ...]  # labels as written in the file


def read_voc(path: Path) -> VocAnnotation:
    """One Pascal VOC xml file; raises DatasetError naming the file and the missing element."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        raise DatasetError(f"{path}: not a readable VOC xml ({err})") from err

    def text(node: ET.Element, tag: str) -> str:
        found = node.find(tag)
        if found is None or found.text is None:
            raise DatasetError(f"{path}: missing <{tag}>")
        return found.text.strip()

    try:
        size = root.find("size")
        if size is None:
            raise DatasetError(f"{path}: missing <size>")
        width, height = int(float(text(size, "width"))), int(float(text(size, "height")))
        objects = []
        for obj in root.iter("object"):
            box = obj.find("bndbox")
            if box is None:
                raise DatasetError(f"{path}: an <object> without <bndbox>")
            xyxy = tuple(float(text(box, tag)) for tag in ("xmin", "ymin", "xmax", "ymax"))
            objects.append(GroundTruth(text(obj, "name"), (xyxy[0], xyxy[1], xyxy[2], xyxy[3])))
    except ValueError as err:
        if isinstance(err, DatasetError):
            raise
        raise DatasetError(f"{path}: a number that is not one ({err})") from err
    filename = root.findtext("filename") or path.with_suffix(".jpg").name
    return VocAnnotation(
        filename=filename.strip(), width=width, height=height, objects=tuple(objects)
    )


def _find_image(images_dir: Path, annotation: VocAnnotation, stem: str) -> Path:
    candidate = images_dir / annotation.filename
    if candidate.is_file():
        return candidate
    for suffix in IMAGE_SUFFIXES:
        candidate = images_dir / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    raise DatasetError(f"{images_dir}: no image for annotation {stem}")


def _voc_box(obj: GroundTruth, width: int, height: int) -> tuple[float, float, float, float] | None:
    """VOC corners are 1-based inclusive pixels; clipped to the image, None when degenerate."""
    x1, y1, x2, y2 = obj.xyxy
    x1, y1 = max(0.0, x1 - 1.0), max(0.0, y1 - 1.0)
    x2, y2 = min(float(width), x2), min(float(height), y2)
    if x2 - x1 < 1.0 or y2 - y1 < 1.0:
        return None
    return (x1, y1, x2, y2)


@dataclass(frozen=True, slots=True)
class ConversionReport:
    images: Mapping[str, int]  # split -> images written
    boxes: Mapping[str, int]  # class name -> boxes written
    skipped_boxes: int  # degenerate after clipping


def convert_voc_to_yolo(
    source: Path,
    out_dir: Path,
    *,
    class_map: Mapping[str, str] = FACE_MASK_CLASSES,
    val_fraction: float = VAL_FRACTION,
) -> ConversionReport:
    """Convert source/annotations/*.xml + source/images/ into out_dir/{images,labels}/{train,val}/.

    Images are copied (out_dir must not be inside the repository for third-party data); class ids
    follow scenes.classes.CLASS_NAMES. A VOC class missing from class_map is an error naming it.
    """
    annotations = source / "annotations"
    images_dir = source / "images"
    if not annotations.is_dir() or not images_dir.is_dir():
        raise DatasetError(f"{source}: expected annotations/ and images/ folders")
    for name, target in class_map.items():
        if target not in CLASS_NAMES:
            raise DatasetError(
                f"class_map[{name!r}] = {target!r} is not one of {', '.join(CLASS_NAMES)}"
            )
    counts = {"train": 0, "val": 0}
    boxes: dict[str, int] = {}
    skipped = 0
    for xml_path in sorted(annotations.glob("*.xml")):
        stem = xml_path.stem
        annotation = read_voc(xml_path)
        image = _find_image(images_dir, annotation, stem)
        split = "val" if is_validation(stem, val_fraction) else "train"
        lines = []
        for obj in annotation.objects:
            if obj.label not in class_map:
                raise DatasetError(
                    f"{xml_path}: class {obj.label!r} is not in the class map "
                    f"({', '.join(class_map)})"
                )
            box = _voc_box(obj, annotation.width, annotation.height)
            if box is None:
                skipped += 1
                continue
            target = class_map[obj.label]
            boxes[target] = boxes.get(target, 0) + 1
            x1, y1, x2, y2 = box
            w, h = annotation.width, annotation.height
            lines.append(
                f"{CLASS_NAMES.index(target)} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} "
                f"{(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}"
            )
        (out_dir / "images" / split).mkdir(parents=True, exist_ok=True)
        (out_dir / "labels" / split).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, out_dir / "images" / split / f"{stem}{image.suffix.lower()}")
        (out_dir / "labels" / split / f"{stem}.txt").write_text(
            "\n".join(lines) + ("\n" if lines else "")
        )
        counts[split] += 1
    return ConversionReport(images=counts, boxes=boxes, skipped_boxes=skipped)


@dataclass(frozen=True, slots=True)
class LabelledImage:
    image: Path
    truths: tuple[GroundTruth, ...]  # labels are kitchen class names


def read_yolo_labels(
    path: Path, width: int, height: int, names: tuple[str, ...] = CLASS_NAMES
) -> tuple[GroundTruth, ...]:
    """A YOLO label file (`class cx cy w h`, normalised) as pixel boxes; no file means no boxes."""
    if not path.is_file():
        return ()
    truths = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            class_index = int(parts[0])
            cx, cy, w, h = (float(v) for v in parts[1:5])
            if len(parts) < 5 or not 0 <= class_index < len(names):
                raise ValueError("expected `class cx cy w h` with a known class")
        except ValueError as err:
            raise DatasetError(f"{path}:{number}: {err}") from err
        truths.append(
            GroundTruth(
                names[class_index],
                (
                    (cx - w / 2) * width,
                    (cy - h / 2) * height,
                    (cx + w / 2) * width,
                    (cy + h / 2) * height,
                ),
            )
        )
    return tuple(truths)


def _image_size(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DatasetError(f"{path}: not a readable image")
    return int(image.shape[1]), int(image.shape[0])


def load_labelled_images(
    data: Path,
    *,
    split: str = "val",
    class_map: Mapping[str, str] = FACE_MASK_CLASSES,
    names: tuple[str, ...] = CLASS_NAMES,
) -> list[LabelledImage]:
    """A labelled image set in one of these layouts, sorted by image path:

    - a data.yaml (YOLO): its `split` entry (a folder of images, labels beside in labels/);
    - a YOLO folder: <data>/images/<split>/ + <data>/labels/<split>/, or <data>/images/ +
      <data>/labels/; class ids are read with `names` (a data.yaml brings its own);
    - a Pascal VOC folder: <data>/annotations/*.xml + <data>/images/; only its validation split
      (is_validation) when split == "val", only training when "train", everything when "all"; VOC
      classes are mapped with class_map, and VOC's 1-based corners are converted.
    """
    if data.is_file() and data.suffix in (".yaml", ".yml"):
        return _from_data_yaml(data, split)
    if (data / "annotations").is_dir():
        return _from_voc(data, split, class_map)
    images = data / "images" / split if (data / "images" / split).is_dir() else data / "images"
    if not images.is_dir():
        raise DatasetError(
            f"{data}: neither a data.yaml, a YOLO folder (images/, labels/) "
            "nor a VOC folder (annotations/)"
        )
    return _from_yolo_folder(images, names)


def _labels_dir_for(images: Path) -> Path:
    parts = list(images.parts)
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] == "images":
            parts[index] = "labels"
            return Path(*parts)
    raise DatasetError(
        f"{images}: an image folder must have 'images' in its path (labels go in 'labels')"
    )


def _from_yolo_folder(images: Path, names: tuple[str, ...] = CLASS_NAMES) -> list[LabelledImage]:
    labels = _labels_dir_for(images)
    result = []
    for image in sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        width, height = _image_size(image)
        result.append(
            LabelledImage(
                image, read_yolo_labels(labels / f"{image.stem}.txt", width, height, names)
            )
        )
    return result


def _data_yaml(path: Path) -> dict[str, object]:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise DatasetError(f"{path}: not a readable data.yaml ({err})") from err
    if not isinstance(document, dict):
        raise DatasetError(f"{path}: not a readable data.yaml (not a mapping)")
    return document


def data_yaml_names(path: Path) -> tuple[str, ...]:
    """The class names of a YOLO data.yaml, in class-id order."""
    raw_names = _data_yaml(path).get("names")
    if isinstance(raw_names, dict):
        return tuple(str(raw_names[k]) for k in sorted(raw_names))
    if isinstance(raw_names, list):
        return tuple(str(n) for n in raw_names)
    raise DatasetError(f"{path}: `names` must be a list or a mapping of class id to name")


def data_yaml_folders(path: Path, split: str) -> tuple[Path, ...]:
    """The image folders of a YOLO data.yaml's `split` entry (one folder or a list), resolved
    against its `path` (else the file's folder) as ultralytics does; each must exist."""
    document = _data_yaml(path)
    if split not in document:
        raise DatasetError(f"{path}: no `{split}` entry")
    root = Path(str(document.get("path") or path.parent))
    if not root.is_absolute():
        root = path.parent / root
    raw = document[split]
    entries = raw if isinstance(raw, list) else [raw]
    folders = []
    for entry in entries:
        folder = Path(str(entry)) if Path(str(entry)).is_absolute() else root / str(entry)
        if not folder.is_dir():
            raise DatasetError(f"{path}: `{split}` folder {folder} does not exist")
        folders.append(folder)
    return tuple(folders)


def _from_data_yaml(path: Path, split: str) -> list[LabelledImage]:
    names = data_yaml_names(path)
    result: list[LabelledImage] = []
    for folder in data_yaml_folders(path, split):
        result.extend(_from_yolo_folder(folder, names))
    return sorted(result, key=lambda item: str(item.image))


def _from_voc(data: Path, split: str, class_map: Mapping[str, str]) -> list[LabelledImage]:
    if split not in ("val", "train", "all"):
        raise DatasetError(
            f"{data}: split for a VOC folder must be val, train or all, got {split!r}"
        )
    result = []
    for xml_path in sorted((data / "annotations").glob("*.xml")):
        stem = xml_path.stem
        if split != "all" and is_validation(stem) != (split == "val"):
            continue
        annotation = read_voc(xml_path)
        truths = []
        for obj in annotation.objects:
            if obj.label not in class_map:
                raise DatasetError(f"{xml_path}: class {obj.label!r} is not in the class map")
            box = _voc_box(obj, annotation.width, annotation.height)
            if box is not None:
                truths.append(GroundTruth(class_map[obj.label], box))
        result.append(LabelledImage(_find_image(data / "images", annotation, stem), tuple(truths)))
    return result


def write_mixed_data_yaml(path: Path, *, train: Sequence[Path], val: Sequence[Path]) -> Path:
    """A data.yaml whose train and val entries list several image folders (generated scenes and
    converted real data together), with the kitchen class names in class-id order."""
    if not train or not val:
        raise DatasetError(f"{path}: a data.yaml needs at least one train and one val folder")
    for folder in (*train, *val):
        if not folder.is_dir():
            raise DatasetError(f"{path}: image folder {folder} does not exist")
    document = {
        "path": str(path.parent.resolve()),
        "train": [str(folder.resolve()) for folder in train],
        "val": [str(folder.resolve()) for folder in val],
        "names": dict(enumerate(CLASS_NAMES)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def copy_images_with_class(
    images: Path, out_images: Path, class_name: str, names: tuple[str, ...] = CLASS_NAMES
) -> int:
    """Copy the images of a YOLO folder that hold at least one box of class_name (labels beside
    in labels/) into out_images (labels into its labels/ twin): listing such a folder again in a
    data.yaml oversamples a class that the data holds few of. Returns the images copied."""
    if class_name not in names:
        raise DatasetError(f"class {class_name!r} is not one of {', '.join(names)}")
    wanted = str(names.index(class_name))
    labels, out_labels = _labels_dir_for(images), _labels_dir_for(out_images)
    out_images.mkdir(parents=True, exist_ok=True)
    out_labels.mkdir(parents=True, exist_ok=True)
    copied = 0
    for image in sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        label = labels / f"{image.stem}.txt"
        if not label.is_file():
            continue
        if any(line.split()[:1] == [wanted] for line in label.read_text().splitlines()):
            shutil.copyfile(image, out_images / image.name)
            shutil.copyfile(label, out_labels / label.name)
            copied += 1
    return copied
