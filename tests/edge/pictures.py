"""Synthetic pictures for the face and preview tests: noise, steel, a face-like drawing."""

import cv2
import numpy as np
from numpy.typing import NDArray

CLASSES = ("person", "head_covered", "head_bare", "face_masked", "face_bare", "rodent")


def detail(image: NDArray[np.uint8]) -> float:
    """Variance of the Laplacian: high for sharp texture, near 0 once blurred."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def noise(height: int, width: int, seed: int = 0) -> NDArray[np.uint8]:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def steel(height: int = 720, width: int = 1280, seed: int = 0) -> NDArray[np.uint8]:
    """A textured grey-blue background with no skin tones."""
    texture = noise(height, width, seed).astype(np.float32)
    tinted = texture * np.array([0.55, 0.5, 0.45]) + np.array([90.0, 80.0, 70.0])
    return np.asarray(tinted, dtype=np.uint8)


def face_like(size: int) -> NDArray[np.uint8]:
    """A skin-toned oval with dark eyes, brows and a mouth, and pores (texture)."""
    face = np.full((size, size, 3), (200, 60, 40), dtype=np.uint8)  # blue background (BGR)
    center = (size // 2, size // 2)
    cv2.ellipse(face, center, (size * 2 // 5, size // 2 - 2), 0, 0, 360, (120, 160, 220), -1)
    rng = np.random.default_rng(4)
    pores = rng.integers(-12, 13, face.shape).astype(np.int16)
    face = np.clip(face.astype(np.int16) + pores, 0, 255).astype(np.uint8)
    for dx in (-size // 6, size // 6):
        cv2.circle(face, (center[0] + dx, size * 2 // 5), size // 14, (30, 30, 30), -1)
        cv2.line(
            face,
            (center[0] + dx - size // 10, size // 3),
            (center[0] + dx + size // 10, size // 3),
            (40, 40, 60),
            3,
        )
    cv2.ellipse(
        face, (center[0], size * 7 // 10), (size // 7, size // 20), 0, 0, 180, (60, 50, 150), 3
    )
    return np.asarray(face, dtype=np.uint8)
