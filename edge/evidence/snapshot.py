"""The incident snapshot: the frame with the violation's boxes and labels drawn, as a JPEG."""

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.evidence.ring import downscale, encode_jpeg
from edge.violation import Box

BOX_COLOR_BGR = (0, 0, 255)  # red: what the rule reported
TEXT_COLOR_BGR = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def box_pixels(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """A 0..1 box as integer pixel corners inside a width x height image."""
    x1 = min(max(round(box.x1 * width), 0), width - 1)
    y1 = min(max(round(box.y1 * height), 0), height - 1)
    x2 = min(max(round(box.x2 * width), 0), width - 1)
    y2 = min(max(round(box.y2 * height), 0), height - 1)
    return x1, y1, max(x2, x1), max(y2, y1)


def draw_boxes(image: NDArray[np.uint8], boxes: Sequence[Box]) -> NDArray[np.uint8]:
    """A copy of `image` with each box outlined and labelled "label 87%"; the input is kept."""
    canvas = image.copy()
    height, width = canvas.shape[:2]
    thickness = max(2, round(width / 400))
    scale = max(0.4, width / 1600)
    for box in boxes:
        x1, y1, x2, y2 = box_pixels(box, width, height)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), BOX_COLOR_BGR, thickness)
        text = f"{box.label} {box.confidence:.0%}"
        (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, scale, 1)
        # above the box, or inside its top when the box touches the top edge
        top = y1 - text_h - baseline - thickness if y1 >= text_h + baseline + thickness else y1
        cv2.rectangle(
            canvas,
            (x1, top),
            (min(x1 + text_w + 2 * thickness, width - 1), top + text_h + baseline + thickness),
            BOX_COLOR_BGR,
            cv2.FILLED,
        )
        cv2.putText(
            canvas,
            text,
            (x1 + thickness, top + text_h + thickness // 2),
            _FONT,
            scale,
            TEXT_COLOR_BGR,
            1,
            cv2.LINE_AA,
        )
    return canvas


def render_snapshot(
    image: NDArray[np.uint8],
    boxes: Sequence[Box],
    *,
    max_width_px: int = 1920,
    jpeg_quality: int = 90,
) -> bytes:
    """JPEG bytes of `image` (BGR) at most max_width_px wide with the boxes drawn."""
    return encode_jpeg(draw_boxes(downscale(image, max_width_px), boxes), jpeg_quality)
