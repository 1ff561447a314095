"""Write generated scenes as a YOLO dataset: images/<split>/, labels/<split>/ and data.yaml."""

import sys
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

from scenes.classes import CLASS_NAMES
from scenes.errors import DatasetWriteError
from scenes.labels import yolo_lines
from scenes.scene import SceneConfig, generate_scene, parse_size

ProgressCallback = Callable[[int, int], None]


def scene_seed(seed: int, split: str, index: int) -> int:
    """The seed of image `index` of `split`: different splits never share a scene."""
    entropy = [seed & 0xFFFFFFFF, zlib.crc32(split.encode()), index]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> 1)


def stderr_progress(label: str, stream: TextIO | None = None) -> ProgressCallback:
    """A one-line progress display: `label  done/total  percent`, redrawn in place on stderr."""
    out = stream or sys.stderr

    def report(done: int, total: int) -> None:
        if done == total or done % max(1, total // 200) == 0:
            end = "\n" if done == total else ""
            out.write(f"\r{label} {done}/{total} {100.0 * done / max(total, 1):5.1f}%{end}")
            out.flush()

    return report


def write_yolo_dataset(
    out_dir: Path,
    *,
    count: int,
    seed: int,
    split: str = "train",
    size: int | tuple[int, int] = (640, 640),
    config: SceneConfig | None = None,
    image_format: str = "jpg",
    progress: ProgressCallback | None = None,
    workers: int = 1,
) -> Path:
    """Write `count` scenes to out_dir/images/<split>/ and out_dir/labels/<split>/.

    Returns the path of data.yaml.

    Call once per split (e.g. split="train" then split="val"): data.yaml lists every split found
    under images/, with the class names in class-id order. Image i of a split is
    generate_scene(scene_seed(seed, split, i)), so a split can be regenerated image by image.
    Images are JPEG (quality 95) by default, or PNG with image_format="png". workers > 1 renders
    in that many processes; the files are the same whatever the number of workers.
    """
    if count < 0:
        raise DatasetWriteError(f"count must be >= 0, got {count}")
    if not split or "/" in split or split.startswith("."):
        raise DatasetWriteError(f"split must be a plain folder name, got {split!r}")
    if workers < 1:
        raise DatasetWriteError(f"workers must be >= 1, got {workers}")
    if image_format not in ("jpg", "png"):
        raise DatasetWriteError(f"image_format must be 'jpg' or 'png', got {image_format!r}")
    width, height = parse_size(size)
    images = out_dir / "images" / split
    labels = out_dir / "labels" / split
    try:
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatasetWriteError(f"cannot create dataset folders under {out_dir}: {err}") from err
    jobs = [
        _Job(
            scene_seed(seed, split, index),
            f"{split}_{index:06d}",
            (width, height),
            config,
            image_format,
        )
        for index in range(count)
    ]
    if workers == 1:
        results: Iterator[tuple[str, bytes, str]] = map(_render, jobs)
        _write_all(results, images, labels, image_format, count, progress)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = pool.map(_render, jobs, chunksize=4)
            _write_all(results, images, labels, image_format, count, progress)
    return write_data_yaml(out_dir)


@dataclass(frozen=True, slots=True)
class _Job:
    seed: int
    stem: str
    size: tuple[int, int]
    config: SceneConfig | None
    image_format: str


def _render(job: _Job) -> tuple[str, bytes, str]:
    scene = generate_scene(job.seed, size=job.size, config=job.config)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if job.image_format == "jpg" else []
    ok, encoded = cv2.imencode(f".{job.image_format}", scene.image, params)
    if not ok:
        raise DatasetWriteError(f"cannot encode image {job.stem}")
    return job.stem, encoded.tobytes(), yolo_lines(scene.labels, *job.size)


def _write_all(
    results: Iterator[tuple[str, bytes, str]],
    images: Path,
    labels: Path,
    image_format: str,
    count: int,
    progress: ProgressCallback | None,
) -> None:
    for done, (stem, image_bytes, label_text) in enumerate(results, start=1):
        (images / f"{stem}.{image_format}").write_bytes(image_bytes)
        (labels / f"{stem}.txt").write_text(label_text)
        if progress is not None:
            progress(done, count)


def write_data_yaml(out_dir: Path) -> Path:
    """data.yaml for ultralytics: path, one entry per split folder under images/, names by id."""
    splits = sorted(p.name for p in (out_dir / "images").iterdir() if p.is_dir())
    lines = [f"path: {out_dir.resolve()}"]
    lines += [f"{name}: images/{name}" for name in splits]
    lines.append("names:")
    lines += [f"  {index}: {name}" for index, name in enumerate(CLASS_NAMES)]
    path = out_dir / "data.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path
