"""Letterboxing as ultralytics does it: frame -> model input tensor, and boxes back to the frame."""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

PAD_VALUE = 114  # ultralytics' grey, also what its models were trained with
_SCALE = np.float32(1.0 / 255.0)


@dataclass(frozen=True, slots=True)
class LetterboxGeometry:
    """Where a frame lies inside the model input: scaled by scale_f, then padded top and left."""

    frame_hw: tuple[int, int]
    input_hw: tuple[int, int]
    resized_hw: tuple[int, int]  # the frame's size inside the input, before padding
    scale_f: float  # input pixels per frame pixel
    pad_top_px: int
    pad_left_px: int


def letterbox_geometry(frame_hw: tuple[int, int], input_hw: tuple[int, int]) -> LetterboxGeometry:
    """Keep the aspect ratio, fit inside the input, centre with ultralytics' rounding."""
    frame_h, frame_w = frame_hw
    input_h, input_w = input_hw
    if min(frame_h, frame_w, input_h, input_w) <= 0:
        raise ValueError(f"sizes must be positive: frame {frame_hw}, input {input_hw}")
    scale_f = min(input_h / frame_h, input_w / frame_w)
    resized_w, resized_h = round(frame_w * scale_f), round(frame_h * scale_f)
    pad_w, pad_h = (input_w - resized_w) / 2, (input_h - resized_h) / 2
    return LetterboxGeometry(
        frame_hw=(frame_h, frame_w),
        input_hw=(input_h, input_w),
        resized_hw=(resized_h, resized_w),
        scale_f=scale_f,
        pad_top_px=round(pad_h - 0.1),
        pad_left_px=round(pad_w - 0.1),
    )


def boxes_to_frame(xyxy: NDArray[np.float32], geometry: LetterboxGeometry) -> NDArray[np.float32]:
    """Boxes in input pixels -> frame pixels: undo the padding and the scale, clip to the frame."""
    frame_h, frame_w = geometry.frame_hw
    offset = np.array([geometry.pad_left_px, geometry.pad_top_px] * 2, dtype=np.float32)
    out = (xyxy.astype(np.float32, copy=True) - offset) / np.float32(geometry.scale_f)
    np.clip(out[:, 0::2], 0, frame_w, out=out[:, 0::2])
    np.clip(out[:, 1::2], 0, frame_h, out=out[:, 1::2])
    return out


def boxes_to_input(xyxy: NDArray[np.float32], geometry: LetterboxGeometry) -> NDArray[np.float32]:
    """Boxes in frame pixels -> input pixels (the inverse of boxes_to_frame inside the frame)."""
    offset = np.array([geometry.pad_left_px, geometry.pad_top_px] * 2, dtype=np.float32)
    return (xyxy.astype(np.float32) * np.float32(geometry.scale_f) + offset).astype(np.float32)


class Letterboxer:
    """Turns BGR frames into the model's (1, 3, H, W) float32 RGB input in 0..1, reusing buffers.

    The tensor returned is the same buffer on every call: use it before the next call. The padding
    is written once per frame size; each call rewrites only the picture area.
    """

    def __init__(self, input_hw: tuple[int, int]) -> None:
        self._input_hw = input_hw
        self._tensor = np.empty((1, 3, *input_hw), dtype=np.float32)
        self._geometry: LetterboxGeometry | None = None
        self._resized = np.empty((0, 0, 3), dtype=np.uint8)
        self._planar = np.empty((3, 0, 0), dtype=np.uint8)
        self._rgb_planes: list[NDArray[np.uint8]] = []
        self._picture = self._tensor[0]

    def __call__(
        self, image_bgr: NDArray[np.uint8]
    ) -> tuple[NDArray[np.float32], LetterboxGeometry]:
        frame_hw = (int(image_bgr.shape[0]), int(image_bgr.shape[1]))
        geometry = self._geometry
        if geometry is None or geometry.frame_hw != frame_hw:
            geometry = self._prepare(frame_hw)
        resized_h, resized_w = geometry.resized_hw
        if geometry.resized_hw == frame_hw:
            source = image_bgr
        else:
            cv2.resize(
                image_bgr, (resized_w, resized_h), dst=self._resized, interpolation=cv2.INTER_LINEAR
            )
            source = self._resized
        # planar and RGB in one pass (B, G, R land in planes 2, 1, 0), then uint8 -> 0..1 float
        cv2.split(source, self._rgb_planes)
        np.multiply(self._planar, _SCALE, out=self._picture)
        return self._tensor, geometry

    def _prepare(self, frame_hw: tuple[int, int]) -> LetterboxGeometry:
        geometry = letterbox_geometry(frame_hw, self._input_hw)
        resized_h, resized_w = geometry.resized_hw
        top, left = geometry.pad_top_px, geometry.pad_left_px
        self._tensor.fill(np.float32(PAD_VALUE) * _SCALE)
        self._resized = np.empty((resized_h, resized_w, 3), dtype=np.uint8)
        self._planar = np.empty((3, resized_h, resized_w), dtype=np.uint8)
        self._rgb_planes = [self._planar[2], self._planar[1], self._planar[0]]
        self._picture = self._tensor[0, :, top : top + resized_h, left : left + resized_w]
        self._geometry = geometry
        return geometry
