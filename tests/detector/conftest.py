"""Marker models built once per session, and helpers to draw markers and compare boxes."""

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from scenes.marker_model import build_marker_model

RED_BGR = (20, 20, 230)  # the marker's RGB (230, 20, 20)
BLUE_BGR = (230, 20, 20)
BACKGROUND_BGR = (120, 130, 125)


@pytest.fixture(scope="session")
def marker_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """red / red_nms: the default marker model; two / two_nms: red_marker and blue_marker."""
    folder = tmp_path_factory.mktemp("marker-models")
    models = {
        "red": (False, ("red_marker",)),
        "red_nms": (True, ("red_marker",)),
        "two": (False, ("red_marker", "blue_marker")),
        "two_nms": (True, ("red_marker", "blue_marker")),
    }
    paths = {}
    for key, (nms, names) in models.items():
        paths[key] = folder / f"{key}.onnx"
        build_marker_model(paths[key], nms=nms, class_names=names)
    return paths


def plain_frame(height: int = 360, width: int = 640, seed: int = 0) -> NDArray[np.uint8]:
    """A noisy kitchen-grey frame with beige and brown patches: nothing strongly red."""
    rng = np.random.default_rng(seed)
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = BACKGROUND_BGR
    frame[: height // 3, : width // 2] = (150, 180, 210)  # beige
    frame[height // 2 :, width // 2 :] = (40, 70, 120)  # brown wood
    noise = rng.integers(-8, 9, frame.shape, np.int16)
    noisy: NDArray[np.uint8] = np.clip(frame + noise, 0, 255).astype(np.uint8)
    return noisy


def draw_square(
    frame: NDArray[np.uint8], xyxy: tuple[int, int, int, int], bgr: tuple[int, int, int]
) -> None:
    x1, y1, x2, y2 = xyxy
    frame[y1:y2, x1:x2] = bgr


def iou(
    a: NDArray[np.float32] | tuple[float, ...], b: NDArray[np.float32] | tuple[float, ...]
) -> float:
    ax1, ay1, ax2, ay2 = (float(v) for v in a)
    bx1, by1, bx2, by2 = (float(v) for v in b)
    inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union if union > 0 else 0.0
