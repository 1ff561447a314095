"""Real face crops (folders with_mask/ and without_mask/) pasted onto generated heads."""

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from scenes.errors import SceneConfigError

_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@lru_cache(maxsize=4)
def _listing(root: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    folder = Path(root)
    lists = []
    for name in ("with_mask", "without_mask"):
        sub = folder / name
        if not sub.is_dir():
            raise SceneConfigError(f"mask_crops_dir {folder}: missing folder {name}/")
        files = tuple(sorted(str(p) for p in sub.iterdir() if p.suffix.lower() in _SUFFIXES))
        if not files:
            raise SceneConfigError(f"mask_crops_dir {folder}: no images in {name}/")
        lists.append(files)
    return lists[0], lists[1]


def pick_face_crop(
    rng: np.random.Generator, root: Path, *, masked: bool
) -> tuple[NDArray[np.uint8], bool]:
    """A face crop from root/with_mask or root/without_mask, read now; the flag says masked."""
    with_mask, without_mask = _listing(str(root))
    files = with_mask if masked else without_mask
    path = files[int(rng.integers(len(files)))]
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise SceneConfigError(f"mask_crops_dir: cannot read image {path}")
    # many crops hold some background around the face: keep the central part
    h, w = image.shape[:2]
    mx, my = int(w * 0.08), int(h * 0.06)
    return np.ascontiguousarray(image[my : h - my, mx : w - mx]), masked
