"""Sprites: small supersampled drawings of one object, with a per-pixel map of labelled parts."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

NO_PART = 255
"""``Sprite.parts`` where a pixel belongs to no labelled role (drawn but never labelled)."""

Color = tuple[float, float, float]  # BGR 0..255
Point = tuple[float, float]
_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << _SHIFT


@dataclass(frozen=True, slots=True)
class Role:
    """A labelled part of a sprite: a person, its head, its face."""

    class_name: str
    parent: int | None = None  # index of the enclosing role: a face's head, a head's person
    min_visible: float = (
        0.5  # fraction of its drawn pixels that must stay visible to keep the label
    )


@dataclass(frozen=True, slots=True)
class Sprite:
    image: NDArray[np.uint8]  # (h, w, 3) BGR, meaningful where alpha > 0
    alpha: NDArray[np.float32]  # (h, w) coverage 0..1
    parts: NDArray[np.uint8]  # (h, w) index into roles, NO_PART where no labelled role
    roles: tuple[Role, ...]
    anchor_xy: Point  # the sprite pixel placed on the scene point (feet, base of a container)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def flipped(self) -> "Sprite":
        """The mirror image (left <-> right)."""
        return Sprite(
            image=np.ascontiguousarray(self.image[:, ::-1]),
            alpha=np.ascontiguousarray(self.alpha[:, ::-1]),
            parts=np.ascontiguousarray(self.parts[:, ::-1]),
            roles=self.roles,
            anchor_xy=(self.width - self.anchor_xy[0], self.anchor_xy[1]),
        )

    def scaled(self, fx: float, fy: float | None = None) -> "Sprite":
        """Resized by fx horizontally and fy (default fx) vertically."""
        fy = fx if fy is None else fy
        w = max(1, round(self.width * fx))
        h = max(1, round(self.height * fy))
        interp = cv2.INTER_AREA if fx * fy < 1 else cv2.INTER_LINEAR
        source = self.image.astype(np.float32) * self.alpha[..., None]
        prem = np.asarray(cv2.resize(source, (w, h), interpolation=interp), dtype=np.float32)
        alpha = np.asarray(cv2.resize(self.alpha, (w, h), interpolation=interp), dtype=np.float32)
        parts = np.asarray(
            cv2.resize(self.parts, (w, h), interpolation=cv2.INTER_NEAREST), dtype=np.uint8
        )
        return Sprite(
            image=_unpremultiply(prem, alpha),
            alpha=alpha,
            parts=parts,
            roles=self.roles,
            anchor_xy=(self.anchor_xy[0] * w / self.width, self.anchor_xy[1] * h / self.height),
        )

    def rotated(self, angle_deg: float) -> "Sprite":
        """Rotated counter-clockwise about its centre; the canvas grows to hold every pixel."""
        if abs(angle_deg) < 0.5:
            return self
        cx, cy = self.width / 2.0, self.height / 2.0
        rad = math.radians(angle_deg)
        cos, sin = abs(math.cos(rad)), abs(math.sin(rad))
        w = math.ceil(self.width * cos + self.height * sin)
        h = math.ceil(self.width * sin + self.height * cos)
        matrix = cv2.getRotationMatrix2D((cx, cy), angle_deg, 1.0)
        matrix[0, 2] += w / 2.0 - cx
        matrix[1, 2] += h / 2.0 - cy
        source = self.image.astype(np.float32) * self.alpha[..., None]
        prem = np.asarray(
            cv2.warpAffine(source, matrix, (w, h), flags=cv2.INTER_LINEAR), dtype=np.float32
        )
        alpha = np.asarray(
            cv2.warpAffine(self.alpha, matrix, (w, h), flags=cv2.INTER_LINEAR), dtype=np.float32
        )
        parts = np.asarray(
            cv2.warpAffine(
                self.parts, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=(NO_PART,)
            ),
            dtype=np.uint8,
        )
        ax, ay = self.anchor_xy
        anchor = (
            matrix[0, 0] * ax + matrix[0, 1] * ay + matrix[0, 2],
            matrix[1, 0] * ax + matrix[1, 1] * ay + matrix[1, 2],
        )
        return Sprite(
            image=_unpremultiply(prem, alpha),
            alpha=alpha,
            parts=parts,
            roles=self.roles,
            anchor_xy=(float(anchor[0]), float(anchor[1])),
        )


class Texture:
    """Colour noise for a painter: grain per painted pixel, blotches from one low-res field."""

    def __init__(
        self,
        color: Color,
        amplitude: float,
        grain: float,
        blotch_px: float,
        seed: int,
        shape: tuple[int, int],
    ) -> None:
        self.color = color
        self.amplitude = amplitude
        self.grain = grain
        self._blotch_px = blotch_px
        self._rng = np.random.default_rng(seed)
        self._shape = shape
        self._field: NDArray[np.float32] | None = None

    def sample(self, mask: NDArray[np.bool_], window: tuple[slice, slice]) -> NDArray[np.float32]:
        local = mask[window]
        count = int(np.count_nonzero(local))
        values = np.empty((count, 3), dtype=np.float32)
        values[:] = self.color
        if self._blotch_px > 0:
            values += self._blotches()[window][local][:, None] * self.amplitude
        if self.grain > 0:
            fine = self._rng.normal(0.0, self.amplitude * self.grain * 0.5, size=count)
            values += fine.astype(np.float32)[:, None]
        return values

    def _blotches(self) -> NDArray[np.float32]:
        if self._field is None:
            h, w = self._shape
            cells_x = max(2, round(w / self._blotch_px))
            cells_y = max(2, round(h / self._blotch_px))
            low = self._rng.normal(0.0, 1.0, size=(cells_y, cells_x)).astype(np.float32)
            field = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
            self._field = np.asarray(field, dtype=np.float32)
        return self._field


def _unpremultiply(prem: NDArray[np.float32], alpha: NDArray[np.float32]) -> NDArray[np.uint8]:
    safe = np.maximum(alpha, 1e-3)[..., None]
    return np.clip(prem / safe, 0, 255).astype(np.uint8)


class Painter:
    """Draws one sprite in its own units at `supersample` times the resolution, then averages down.

    Every primitive returns a boolean mask (in supersampled pixels) that `fill` paints with a colour
    or a texture and marks with a role index, so the parts map records what was drawn where.
    """

    def __init__(self, width: float, height: float, *, supersample: int = 2) -> None:
        self.supersample = supersample
        self.width_px = max(1, math.ceil(width))
        self.height_px = max(1, math.ceil(height))
        shape = (self.height_px * supersample, self.width_px * supersample)
        self.image = np.zeros((*shape, 3), dtype=np.uint8)
        self.cover = np.zeros(shape, dtype=np.uint8)
        self.parts = np.full(shape, NO_PART, dtype=np.uint8)
        self._scratch = np.zeros(shape, dtype=np.uint8)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.image.shape[0], self.image.shape[1])

    def _fixed(self, points: Sequence[Point]) -> NDArray[np.int32]:
        scale = self.supersample * _ONE
        return np.round(np.asarray(points, dtype=np.float64) * scale).astype(np.int32)

    def _begin(self) -> NDArray[np.uint8]:
        self._scratch.fill(0)
        return self._scratch

    def polygon(self, points: Sequence[Point]) -> NDArray[np.bool_]:
        mask = self._begin()
        cv2.fillPoly(mask, [self._fixed(points)], (1,), cv2.LINE_8, _SHIFT)
        return mask.astype(bool)

    def ellipse(
        self,
        center: Point,
        axes: tuple[float, float],
        angle_deg: float = 0.0,
        start_deg: float = 0.0,
        end_deg: float = 360.0,
    ) -> NDArray[np.bool_]:
        mask = self._begin()
        c = self._fixed([center])[0]
        a = self._fixed([(max(axes[0], 0.05), max(axes[1], 0.05))])[0]
        cv2.ellipse(
            mask,
            (int(c[0]), int(c[1])),
            (int(a[0]), int(a[1])),
            angle_deg,
            start_deg,
            end_deg,
            (1,),
            -1,
            cv2.LINE_8,
            _SHIFT,
        )
        return mask.astype(bool)

    def circle(self, center: Point, radius: float) -> NDArray[np.bool_]:
        return self.ellipse(center, (radius, radius))

    def polyline(
        self, points: Sequence[Point], thickness: float, *, closed: bool = False
    ) -> NDArray[np.bool_]:
        mask = self._begin()
        px = max(1, round(thickness * self.supersample))
        cv2.polylines(mask, [self._fixed(points)], closed, (1,), px, cv2.LINE_8, _SHIFT)
        return mask.astype(bool)

    def tapered(
        self, points: Sequence[Point], width_start: float, width_end: float
    ) -> NDArray[np.bool_]:
        """A stroke along points, its width going from width_start to width_end (a tail)."""
        pts = np.asarray(points, dtype=np.float64)
        if len(pts) < 2:
            return np.zeros(self.shape, dtype=bool)
        tangents = np.gradient(pts, axis=0)
        norms = np.maximum(np.linalg.norm(tangents, axis=1, keepdims=True), 1e-6)
        normals = np.stack([-tangents[:, 1], tangents[:, 0]], axis=1) / norms
        widths = np.linspace(width_start, width_end, len(pts))[:, None] / 2.0
        outline = np.concatenate([pts + normals * widths, (pts - normals * widths)[::-1]])
        mask = self.polygon([(float(x), float(y)) for x, y in outline])
        return mask | self.circle((float(pts[0, 0]), float(pts[0, 1])), width_start / 2.0)

    def fill(
        self,
        mask: NDArray[np.bool_],
        color: "Color | NDArray[np.uint8] | Texture",
        part: int | None = NO_PART,
        *,
        opacity: float = 1.0,
    ) -> None:
        """Paint mask with a colour or a texture (an image of the painter's supersampled shape).

        part is the role index the pixels now belong to; None keeps the roles already there (a
        highlight or a shadow on top of a part).
        """
        x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
        if w == 0 or h == 0:
            return
        window = (slice(y, y + h), slice(x, x + w))
        local = mask[window]
        if isinstance(color, Texture):
            source = color.sample(mask, window)
        elif isinstance(color, np.ndarray):
            source = color[window][local].astype(np.float32)
        else:
            source = np.asarray(color, dtype=np.float32)
        image = self.image[window]
        cover = self.cover[window]
        if opacity >= 1.0:
            image[local] = np.clip(source, 0, 255).astype(np.uint8)
        else:
            under = image[local].astype(np.float32)
            # over empty pixels a translucent paint is still the only colour there
            empty = (cover[local] == 0)[:, None]
            blended = np.where(empty, source, under * (1.0 - opacity) + source * opacity)
            image[local] = np.clip(blended, 0, 255).astype(np.uint8)
        cover[local] = 255
        if part is not None:
            self.parts[window][local] = part

    def shade(self, mask: NDArray[np.bool_], center: Point, radius: float, strength: float) -> None:
        """Darken mask away from a lit point (strength 0..1), for a rounded look."""
        if not mask.any():
            return
        ys, xs = np.nonzero(mask)
        cx, cy = center[0] * self.supersample, center[1] * self.supersample
        dist = np.hypot(xs - cx, ys - cy) / max(radius * self.supersample, 1e-3)
        factor = 1.0 - strength * np.clip(dist, 0.0, 1.0) ** 1.5
        self.image[ys, xs] = np.clip(self.image[ys, xs] * factor[:, None], 0, 255).astype(np.uint8)

    def texture(
        self,
        rng: np.random.Generator,
        color: Color,
        *,
        amplitude: float,
        grain: float = 1.0,
        blotch_px: float = 0.0,
    ) -> "Texture":
        """A colour with grain noise and optional large blotches, computed where it is painted."""
        seed = int(rng.integers(2**62))
        return Texture(color, amplitude, grain, blotch_px * self.supersample, seed, self.shape)

    def finish(self, roles: tuple[Role, ...], anchor_xy: Point) -> Sprite:
        """Average the supersampled drawing down to sprite pixels."""
        s = self.supersample
        h, w = self.height_px, self.width_px
        cover = self.cover.astype(np.float32) * (1.0 / 255.0)
        prem = self.image.astype(np.float32) * cover[..., None]
        alpha = cv2.resize(cover, (w, h), interpolation=cv2.INTER_AREA)
        prem_small = cv2.resize(prem, (w, h), interpolation=cv2.INTER_AREA)
        # a pixel's role is the outermost role painted in its block (NO_PART only if none was)
        eroded = cv2.erode(self.parts, np.ones((s, s), dtype=np.uint8), anchor=(0, 0))
        parts = eroded[::s, ::s][:h, :w]
        return Sprite(
            image=_unpremultiply(prem_small.astype(np.float32), alpha.astype(np.float32)),
            alpha=alpha.astype(np.float32),
            parts=parts.astype(np.uint8),
            roles=roles,
            anchor_xy=anchor_xy,
        )


def jitter(rng: np.random.Generator, color: Color, amount: float) -> Color:
    """A colour varied by up to `amount` per channel (kept in 0..255)."""
    b, g, r = (float(np.clip(c + rng.uniform(-amount, amount), 0, 255)) for c in color)
    return (b, g, r)


def scaled_color(color: Color, factor: float) -> Color:
    """A colour made darker (factor < 1) or lighter (factor > 1)."""
    b, g, r = (float(np.clip(c * factor, 0, 255)) for c in color)
    return (b, g, r)


def curve(points: Sequence[Point], samples: int = 24) -> list[Point]:
    """Points along the Bezier curve with the given control points (for tails)."""
    t = np.linspace(0.0, 1.0, samples)[:, None]
    # de Casteljau per sample
    out: list[Point] = []
    for k in range(samples):
        level = np.asarray(points, dtype=np.float64)
        tk = float(t[k, 0])
        while len(level) > 1:
            level = level[:-1] * (1 - tk) + level[1:] * tk
        out.append((float(level[0, 0]), float(level[0, 1])))
    return out
