"""Pack the training data to train on another machine, such as a lent GPU machine that takes at
most 64 MiB with it.

`python -m training.transfer` reads the pipeline's train.yaml and writes a folder that trains the
same way and is about a third of the size: each distinct image once (the real photos that
train.yaml lists several times are the same files), re-encoded as WebP, its YOLO label beside it,
and train.txt / val.txt that list every image as often as train.yaml does. data.yaml there uses
paths relative to itself, so the folder can be trained from wherever it lands:

    python -m training.pipeline --stage train --data PACK/data.yaml ...
"""

import argparse
import hashlib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import yaml

from training.datasets import IMAGE_SUFFIXES
from training.errors import DatasetError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PackReport:
    listed: dict[str, int]  # split -> images listed (repeats counted)
    distinct: int  # image files written
    bytes: int  # size of everything written

    @property
    def megabytes(self) -> float:
        return self.bytes / 2**20


def _labels_for(image: Path) -> Path:
    """ultralytics' rule: the last images/ folder in the path becomes labels/, suffix .txt."""
    parts = list(image.parts)
    index = len(parts) - 1 - parts[::-1].index("images")
    parts[index] = "labels"
    return Path(*parts).with_suffix(".txt")


def _folders(document: dict[str, object], split: str, root: Path) -> list[Path]:
    entry = document.get(split)
    entries = entry if isinstance(entry, list) else [entry]
    if not entries or any(not isinstance(item, str) for item in entries):
        raise DatasetError(f"data.yaml: {split} must name one or more image folders")
    folders = [Path(str(item)) for item in entries]
    return [folder if folder.is_absolute() else root / folder for folder in folders]


def pack_training_data(data_yaml: Path, out_dir: Path, *, quality: int = 80) -> PackReport:
    """Write out_dir/{images,labels}/, train.txt, val.txt and data.yaml (see the module)."""
    if not 1 <= quality <= 100:
        raise DatasetError(f"quality must be 1-100, got {quality}")
    if not data_yaml.is_file():
        raise DatasetError(f"{data_yaml} does not exist; run the data stage first")
    document = yaml.safe_load(data_yaml.read_text())
    root = Path(document.get("path") or data_yaml.parent)
    images_out, labels_out = out_dir / "images", out_dir / "labels"
    images_out.mkdir(parents=True, exist_ok=True)
    labels_out.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}  # content digest -> packed name
    listed: dict[str, int] = {}
    for split in ("train", "val"):
        lines = []
        for folder in _folders(document, split, root):
            if not folder.is_dir():
                raise DatasetError(f"{data_yaml}: image folder {folder} does not exist")
            for image in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
                content = image.read_bytes()
                digest = hashlib.sha256(content).hexdigest()[:20]
                if digest not in written:
                    written[digest] = _write_one(image, digest, images_out, labels_out, quality)
                lines.append(f"./images/{written[digest]}")
        listed[split] = len(lines)
        (out_dir / f"{split}.txt").write_text("\n".join(lines) + "\n")
    packed = {"train": "train.txt", "val": "val.txt", "names": document["names"]}
    (out_dir / "data.yaml").write_text(yaml.safe_dump(packed, sort_keys=False))
    size = sum(path.stat().st_size for path in out_dir.rglob("*") if path.is_file())
    return PackReport(listed=listed, distinct=len(written), bytes=size)


def _write_one(image: Path, digest: str, images_out: Path, labels_out: Path, quality: int) -> str:
    pixels = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if pixels is None:
        raise DatasetError(f"{image} is not a readable image")
    ok, encoded = cv2.imencode(".webp", pixels, [cv2.IMWRITE_WEBP_QUALITY, quality])
    if not ok:
        raise DatasetError(f"{image}: WebP encoding failed")
    name = f"{digest}.webp"
    (images_out / name).write_bytes(encoded.tobytes())
    labels = _labels_for(image)
    (labels_out / f"{digest}.txt").write_text(labels.read_text() if labels.is_file() else "")
    return name


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.transfer", description="Pack the training data to move it."
    )
    parser.add_argument("--data", type=Path, default=Path("var/kitchen/data/train.yaml"))
    parser.add_argument("--out", type=Path, default=Path("var/pack"))
    parser.add_argument("--quality", type=int, default=80, help="WebP quality (1-100)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        report = pack_training_data(args.data, args.out, quality=args.quality)
    except DatasetError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    logger.info(
        "packed out=%s listed=%s distinct=%d size_mib=%.1f",
        args.out,
        report.listed,
        report.distinct,
        report.megabytes,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
