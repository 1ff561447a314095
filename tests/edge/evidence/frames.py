"""Camera frames for the evidence tests: a textured picture with the frame number written in
three flat grey blocks (base 16) that survive JPEG and H.264 (read back with read_marker)."""

from datetime import timedelta
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from streams.frame import Frame
from tests.fixtures.edge import T0

BLOCK_PX = 32  # in a 640-wide image; scaled with the image
_DIGITS = 3


@lru_cache(maxsize=8)
def _texture(width: int, height: int) -> NDArray[np.uint8]:
    rng = np.random.default_rng(width * 10_000 + height)
    noise = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    texture = np.asarray(cv2.GaussianBlur(noise, (3, 3), 0), dtype=np.uint8)
    texture.flags.writeable = False
    return texture


def marked_frame(
    t_s: float, index: int, *, camera_id: str = "cam-1", width: int = 640, height: int = 360
) -> Frame:
    """A frame captured t_s after T0 whose marker blocks say `index` (0..4095)."""
    image = _texture(width, height).copy()
    block = max(8, BLOCK_PX * width // 640)
    for digit in range(_DIGITS):
        image[:block, digit * block : (digit + 1) * block] = (index // 16**digit % 16) * 16 + 8
    return Frame(
        camera_id=camera_id,
        index=index,
        captured_at=T0 + timedelta(microseconds=round(t_s * 1_000_000)),
        image=image,
    )


def read_marker(image: NDArray[np.uint8]) -> int:
    """The index marked_frame() wrote into `image` (any scale)."""
    width = image.shape[1]
    block = max(8, BLOCK_PX * width // 640)
    rows = slice(block // 4, block - block // 4)
    index = 0
    for digit in range(_DIGITS):
        columns = slice(digit * block + block // 4, (digit + 1) * block - block // 4)
        level = float(image[rows, columns].mean())
        index += min(15, max(0, int(level // 16))) * 16**digit
    return index
