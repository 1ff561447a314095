"""The canvas a scene is composed on: colours, and an owner map of which object each pixel shows."""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from scenes.sprite import Sprite

EMPTY = -1  # owner of a background pixel
OCCLUDER = -2  # owner of a pixel drawn by something that is never labelled


@dataclass(frozen=True, slots=True)
class PlacedObject:
    """One labelled role placed on the canvas (a person, a head, a rodent...)."""

    class_name: str
    parent: int | None  # index in Canvas.objects of the enclosing object
    drawn_px: float  # pixels the role and its sub-roles covered in its sprite, before occlusion
    min_visible: float
    center_xy: tuple[float, float]  # canvas pixels, where the camera's area scale is taken


class Canvas:
    """Composes sprites back to front; later sprites hide earlier ones in colour and ownership."""

    def __init__(self, background: NDArray[np.uint8]) -> None:
        self.image = background.astype(np.float32)
        self.owner = np.full(background.shape[:2], EMPTY, dtype=np.int32)
        self.objects: list[PlacedObject] = []

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    def place(self, sprite: Sprite, x: float, y: float, *, occludes: bool = True) -> list[int]:
        """Draw sprite with its anchor at (x, y); returns the object index of each of its roles.

        occludes=False paints colour only (a haze, a reflection): owners stay as they were.
        """
        left = round(x - sprite.anchor_xy[0])
        top = round(y - sprite.anchor_xy[1])
        ids = self._register(sprite, left, top)
        x0, y0 = max(left, 0), max(top, 0)
        x1, y1 = min(left + sprite.width, self.width), min(top + sprite.height, self.height)
        if x0 >= x1 or y0 >= y1:
            return ids
        sx0, sy0 = x0 - left, y0 - top
        sx1, sy1 = sx0 + (x1 - x0), sy0 + (y1 - y0)
        alpha = sprite.alpha[sy0:sy1, sx0:sx1, None]
        region = self.image[y0:y1, x0:x1]
        region *= 1.0 - alpha
        region += sprite.image[sy0:sy1, sx0:sx1].astype(np.float32) * alpha
        if occludes:
            lookup = np.full(256, OCCLUDER, dtype=np.int32)
            lookup[: len(ids)] = ids
            solid = sprite.alpha[sy0:sy1, sx0:sx1] >= 0.5
            owners = lookup[sprite.parts[sy0:sy1, sx0:sx1]]
            self.owner[y0:y1, x0:x1][solid] = owners[solid]
        return ids

    def _register(self, sprite: Sprite, left: int, top: int) -> list[int]:
        solid = sprite.alpha >= 0.5
        counts = np.bincount(sprite.parts[solid].ravel(), minlength=256).astype(np.float64)
        totals = counts[: len(sprite.roles)].copy()
        # a role's drawn area includes its sub-roles: a head's pixels count for its person too
        for index in range(len(sprite.roles) - 1, -1, -1):
            parent = sprite.roles[index].parent
            if parent is not None:
                totals[parent] += totals[index]
        ids: list[int] = []
        for index, role in enumerate(sprite.roles):
            mask = solid & _descends(sprite, index)
            ys, xs = np.nonzero(mask)
            center = (
                (left + float(xs.mean()), top + float(ys.mean()))
                if len(xs)
                else (left + sprite.width / 2.0, top + sprite.height / 2.0)
            )
            parent_id = None if role.parent is None else ids[role.parent]
            ids.append(len(self.objects))
            self.objects.append(
                PlacedObject(
                    class_name=role.class_name,
                    parent=parent_id,
                    drawn_px=float(totals[index]),
                    min_visible=role.min_visible,
                    center_xy=center,
                )
            )
        return ids

    def shadow(
        self, center_xy: tuple[float, float], axes: tuple[float, float], strength: float
    ) -> None:
        """A soft dark ellipse on the ground (colour only)."""
        cx, cy = center_xy
        ax, ay = max(axes[0], 1.0), max(axes[1], 1.0)
        x0, x1 = max(int(cx - 2 * ax), 0), min(int(cx + 2 * ax) + 1, self.width)
        y0, y1 = max(int(cy - 2 * ay), 0), min(int(cy + 2 * ay) + 1, self.height)
        if x0 >= x1 or y0 >= y1:
            return
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        d = ((xs - cx) / ax) ** 2 + ((ys - cy) / ay) ** 2
        factor = 1.0 - strength * np.exp(-d * 1.5)
        self.image[y0:y1, x0:x1] *= factor[..., None]

    def uint8(self) -> NDArray[np.uint8]:
        return np.clip(self.image, 0, 255).astype(np.uint8)


def _descends(sprite: Sprite, role_index: int) -> NDArray[np.bool_]:
    """Pixels whose role is role_index or one of its descendants."""
    members = {role_index}
    for index, role in enumerate(sprite.roles):
        if role.parent in members:
            members.add(index)
    lookup = np.zeros(256, dtype=bool)
    lookup[list(members)] = True
    return lookup[sprite.parts]


def warp_owner(
    owner: NDArray[np.int32], matrix: NDArray[np.float64], size: tuple[int, int]
) -> NDArray[np.int32]:
    """The owner map seen through the camera's homography (nearest neighbour, never blended)."""
    as_float = owner.astype(np.float32)
    warped = cv2.warpPerspective(
        as_float, matrix, size, flags=cv2.INTER_NEAREST, borderValue=(float(EMPTY),)
    )
    return warped.astype(np.int32)
