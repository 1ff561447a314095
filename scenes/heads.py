"""Heads drawn from the front or from above: skin, hair, a toque, hair net or cap, face, mask."""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from scenes.classes import KitchenClass
from scenes.headwear import (
    Covering,
    Facing,
    HairStyle,
    MaskStyle,
    MaskWear,
    cols_outside,
    draw_covering_front,
    rows_from,
)
from scenes.sprite import Color, Painter, Texture, jitter, scaled_color

SKIN_TONES: tuple[Color, ...] = (
    (200, 215, 240),
    (170, 192, 228),
    (140, 170, 215),
    (110, 145, 190),
    (85, 115, 160),
    (60, 85, 125),
    (40, 55, 85),
)
HAIR_COLORS: tuple[Color, ...] = (
    (22, 22, 26),
    (25, 35, 50),
    (30, 50, 80),
    (45, 80, 120),
    (100, 160, 205),
    (150, 150, 155),
    (40, 65, 140),
)
HAIRNET_COLORS: tuple[Color, ...] = (
    (238, 208, 170),
    (242, 242, 242),
    (205, 232, 195),
    (215, 190, 240),
    (230, 225, 210),
)
CAP_COLORS: tuple[Color, ...] = (
    (30, 30, 30),
    (240, 240, 240),
    (40, 40, 190),
    (110, 50, 20),
    (60, 130, 40),
    (120, 120, 120),
    (150, 190, 210),
    (30, 140, 230),
)
MASK_COLORS: dict[MaskStyle, tuple[Color, ...]] = {
    MaskStyle.SURGICAL: ((235, 205, 160), (245, 245, 245), (215, 235, 200), (225, 205, 245)),
    MaskStyle.CLOTH: ((25, 25, 25), (90, 90, 90), (90, 50, 30), (160, 160, 160), (60, 60, 160)),
    MaskStyle.KN95: ((245, 245, 245), (225, 225, 225), (40, 40, 40)),
}
# a face without a correct mask: no mask, a mask under the nose, a mask on the chin
BAD_MASK_WEAR: tuple[float, float, float] = (0.6, 0.25, 0.15)


@dataclass(frozen=True, slots=True)
class HeadLook:
    skin: Color
    hair: Color
    hair_style: HairStyle
    covering: Covering
    covering_color: Color
    toque_height: float  # in head heights
    mask: MaskWear
    mask_style: MaskStyle
    mask_color: Color
    facing: Facing
    real_face: NDArray[np.uint8] | None = None  # a real face crop (BGR) pasted as the face
    real_face_masked: bool = False

    @property
    def head_class(self) -> KitchenClass:
        return (
            KitchenClass.HEAD_BARE if self.covering is Covering.NONE else KitchenClass.HEAD_COVERED
        )

    @property
    def face_class(self) -> KitchenClass:
        if self.real_face is not None:
            return KitchenClass.FACE_MASKED if self.real_face_masked else KitchenClass.FACE_BARE
        return KitchenClass.FACE_MASKED if self.mask is MaskWear.CORRECT else KitchenClass.FACE_BARE

    @property
    def shows_face(self) -> bool:
        return self.facing is not Facing.BACK


def random_head_look(
    rng: np.random.Generator,
    *,
    covered_probability: float,
    masked_probability: float,
    real_face: tuple[NDArray[np.uint8], bool] | None = None,
    bad_mask_wear: tuple[float, float, float] = BAD_MASK_WEAR,
) -> HeadLook:
    """A random head; covering and mask follow the probabilities (a bad mask counts as none).
    A face without a correct mask has none, one under the nose or one on the chin with the
    probabilities of bad_mask_wear."""
    covered = rng.random() < covered_probability
    covering = (
        Covering(rng.choice([Covering.TOQUE, Covering.HAIRNET, Covering.CAP], p=[0.4, 0.35, 0.25]))
        if covered
        else Covering.NONE
    )
    if covering is Covering.HAIRNET:
        covering_color = HAIRNET_COLORS[int(rng.integers(len(HAIRNET_COLORS)))]
    elif covering is Covering.CAP:
        covering_color = CAP_COLORS[int(rng.integers(len(CAP_COLORS)))]
    else:
        white = float(rng.uniform(225, 255))
        covering_color = (white, white, white)
    if rng.random() < masked_probability:
        mask = MaskWear.CORRECT
    else:
        mask = MaskWear(
            rng.choice([MaskWear.NONE, MaskWear.UNDER_NOSE, MaskWear.CHIN], p=list(bad_mask_wear))
        )
    style = MaskStyle(rng.choice(list(MaskStyle), p=[0.6, 0.25, 0.15]))
    palette = MASK_COLORS[style]
    facing = Facing(rng.choice(list(Facing), p=[0.45, 0.2, 0.2, 0.15]))
    return HeadLook(
        skin=jitter(rng, SKIN_TONES[int(rng.integers(len(SKIN_TONES)))], 12),
        hair=jitter(rng, HAIR_COLORS[int(rng.integers(len(HAIR_COLORS)))], 10),
        hair_style=HairStyle(rng.choice(list(HairStyle), p=[0.5, 0.2, 0.15, 0.15])),
        covering=covering,
        covering_color=jitter(rng, covering_color, 10),
        toque_height=float(rng.uniform(0.45, 1.05)),
        mask=mask,
        mask_style=style,
        mask_color=jitter(rng, palette[int(rng.integers(len(palette)))], 12),
        facing=facing if real_face is None else Facing.FRONT,
        real_face=None if real_face is None else real_face[0],
        real_face_masked=False if real_face is None else real_face[1],
    )


def draw_head_front(
    painter: Painter,
    look: HeadLook,
    rng: np.random.Generator,
    *,
    cx: float,
    top: float,
    u: float,
    head_part: int,
    face_part: int | None,
) -> None:
    """A head `u` high, skull top at (cx, top); the face (below the hairline) gets face_part."""
    back = look.facing is Facing.BACK
    dx = {Facing.LEFT: -0.1 * u, Facing.RIGHT: 0.1 * u}.get(look.facing, 0.0)
    center = (cx, top + 0.5 * u)
    hairline = top + 0.24 * u
    bare = look.covering is Covering.NONE
    hair_tex = painter.texture(rng, look.hair, amplitude=14, grain=1.2)
    if bare and look.hair_style is HairStyle.LONG:
        painter.fill(
            painter.ellipse((cx, top + 0.72 * u), (0.47 * u, 0.72 * u)), hair_tex, head_part
        )
    ear_color = scaled_color(look.skin, 0.9)
    for side in (-1, 1):
        painter.fill(
            painter.ellipse(
                (cx + side * 0.36 * u + dx * 0.3, top + 0.53 * u), (0.075 * u, 0.12 * u)
            ),
            ear_color,
            head_part,
        )
    skull = painter.ellipse(center, (0.37 * u, 0.5 * u))
    skin_tex = painter.texture(rng, look.skin, amplitude=6, grain=0.8)
    upper = skull & ~rows_from(painter, hairline)
    painter.fill(upper, skin_tex, head_part)
    if back or face_part is None:
        painter.fill(skull & ~upper, skin_tex, head_part)
    elif look.real_face is not None:
        _paste(
            painter,
            look.real_face,
            center,
            (0.42 * u, 0.56 * u),
            skull,
            hairline,
            head_part,
            face_part,
        )
    else:
        painter.fill(skull & ~upper, skin_tex, face_part)
        painter.shade(skull, (cx + dx, top + 0.45 * u), 0.6 * u, 0.25)
        _draw_features(painter, look, cx + dx, top, u, face_part)
    if bare:
        _draw_hair_front(painter, look, hair_tex, cx=cx, top=top, u=u, dx=dx, head_part=head_part)
    if (
        not back
        and face_part is not None
        and look.real_face is None
        and look.mask is not MaskWear.NONE
    ):
        _draw_mask_front(painter, look, cx=cx + dx, top=top, u=u, face_part=face_part)
    if not bare:
        draw_covering_front(painter, look, rng, cx=cx, top=top, u=u, dx=dx, head_part=head_part)


def _paste(
    painter: Painter,
    crop: NDArray[np.uint8],
    center: tuple[float, float],
    axes: tuple[float, float],
    skull: NDArray[np.bool_],
    hairline: float,
    head_part: int,
    face_part: int,
) -> None:
    s = painter.supersample
    x0, y0 = round((center[0] - axes[0]) * s), round((center[1] - axes[1]) * s)
    w, h = max(2, round(2 * axes[0] * s)), max(2, round(2 * axes[1] * s))
    patch = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((*painter.shape, 3), dtype=np.uint8)
    ph, pw = painter.shape
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + w, pw), min(y0 + h, ph)
    canvas[cy0:cy1, cx0:cx1] = patch[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    region = painter.ellipse(center, axes) | skull
    upper = region & ~rows_from(painter, hairline)
    painter.fill(upper, canvas, head_part)
    painter.fill(region & ~upper, canvas, face_part)


def _draw_features(
    painter: Painter, look: HeadLook, cx: float, top: float, u: float, part: int
) -> None:
    eye_y = top + 0.47 * u
    dark = (25.0, 25.0, 30.0)
    for side in (-1, 1):
        ex = cx + side * 0.145 * u
        if u >= 24:
            painter.fill(painter.ellipse((ex, eye_y), (0.07 * u, 0.035 * u)), (235, 235, 235), part)
        painter.fill(painter.ellipse((ex, eye_y), (0.04 * u, 0.035 * u)), dark, part)
        brow = painter.polyline(
            [(ex - 0.07 * u, top + 0.4 * u), (ex + 0.07 * u, top + 0.39 * u)], max(0.035 * u, 0.6)
        )
        painter.fill(brow, scaled_color(look.hair, 0.8), part)
    nose = painter.polygon(
        [(cx, top + 0.5 * u), (cx + 0.05 * u, top + 0.65 * u), (cx - 0.05 * u, top + 0.65 * u)]
    )
    painter.fill(nose, scaled_color(look.skin, 0.82), part)
    lips = painter.ellipse((cx, top + 0.79 * u), (0.11 * u, 0.03 * u))
    b, g, r = look.skin
    painter.fill(lips, (b * 0.55, g * 0.5, min(255.0, r * 0.75 + 30)), part)


def _draw_hair_front(
    painter: Painter,
    look: HeadLook,
    hair_tex: Texture,
    *,
    cx: float,
    top: float,
    u: float,
    dx: float,
    head_part: int,
) -> None:
    if look.facing is Facing.BACK:
        back_hair = painter.ellipse((cx, top + 0.5 * u), (0.39 * u, 0.52 * u)) & ~rows_from(
            painter, top + 0.86 * u
        )
        painter.fill(back_hair, hair_tex, head_part)
        return
    if look.hair_style is HairStyle.BALD:
        sides = painter.ellipse((cx, top + 0.5 * u), (0.38 * u, 0.5 * u)) & cols_outside(
            painter, cx, 0.3 * u
        )
        band = sides & rows_from(painter, top + 0.3 * u) & ~rows_from(painter, top + 0.5 * u)
        painter.fill(band, hair_tex, head_part)
        return
    cap = painter.ellipse((cx - dx * 0.3, top + 0.5 * u), (0.4 * u, 0.53 * u))
    fringe_y = top + (0.22 if look.hair_style is HairStyle.SHORT else 0.27) * u
    painter.fill(cap & ~rows_from(painter, fringe_y), hair_tex, head_part)
    side_to = top + (0.45 if look.hair_style is not HairStyle.LONG else 0.95) * u
    sides = cap & cols_outside(painter, cx, 0.29 * u) & ~rows_from(painter, side_to)
    painter.fill(sides, hair_tex, head_part)
    if look.hair_style is HairStyle.BUN:
        painter.fill(painter.circle((cx, top - 0.02 * u), 0.17 * u), hair_tex, head_part)


def _draw_mask_front(
    painter: Painter, look: HeadLook, *, cx: float, top: float, u: float, face_part: int
) -> None:
    y_from, y_to = {
        MaskWear.CORRECT: (0.56, 1.0),
        MaskWear.UNDER_NOSE: (0.7, 1.02),
        MaskWear.CHIN: (0.86, 1.12),
    }[look.mask]
    outline = painter.ellipse((cx, top + 0.55 * u), (0.39 * u, 0.55 * u))
    if look.mask_style is MaskStyle.KN95:
        outline &= painter.polygon(
            [
                (cx - 0.5 * u, top + y_from * u + 0.06 * u),
                (cx, top + y_from * u - 0.03 * u),
                (cx + 0.5 * u, top + y_from * u + 0.06 * u),
                (cx + 0.5 * u, top + 1.2 * u),
                (cx - 0.5 * u, top + 1.2 * u),
            ]
        )
    band = rows_from(painter, top + y_from * u) & ~rows_from(painter, top + y_to * u)
    mask = outline & band
    painter.fill(mask, look.mask_color, face_part)
    line = scaled_color(look.mask_color, 0.8)
    if look.mask_style is MaskStyle.SURGICAL and u >= 16:
        for k in (0.3, 0.5, 0.7):
            y = top + (y_from + (y_to - y_from) * k) * u
            pleat = (
                painter.polyline([(cx - 0.34 * u, y), (cx + 0.34 * u, y)], max(0.02 * u, 0.5))
                & mask
            )
            painter.fill(pleat, line, face_part)
    if look.mask_style is MaskStyle.KN95 and u >= 16:
        seam = (
            painter.polyline([(cx, top + y_from * u), (cx, top + y_to * u)], max(0.02 * u, 0.5))
            & mask
        )
        painter.fill(seam, line, face_part)
    for side in (-1, 1):
        loop = painter.polyline(
            [
                (cx + side * 0.35 * u, top + (y_from + 0.05) * u),
                (cx + side * 0.38 * u, top + 0.5 * u),
            ],
            max(0.025 * u, 0.5),
        )
        painter.fill(loop, scaled_color(look.mask_color, 1.05), face_part)
