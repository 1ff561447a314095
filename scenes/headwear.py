"""Headwear from the front and the whole head from above: toques, hair nets, caps."""

from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from scenes.sprite import Painter, scaled_color

if TYPE_CHECKING:
    from scenes.heads import HeadLook


class Covering(StrEnum):
    NONE = "none"
    TOQUE = "toque"
    HAIRNET = "hairnet"
    CAP = "cap"


class MaskWear(StrEnum):
    NONE = "none"
    CORRECT = "correct"  # nose and mouth covered
    UNDER_NOSE = "under_nose"  # mouth covered, nose free: not masked
    CHIN = "chin"  # pulled down onto the chin: not masked


class MaskStyle(StrEnum):
    SURGICAL = "surgical"
    CLOTH = "cloth"
    KN95 = "kn95"


class Facing(StrEnum):
    FRONT = "front"
    LEFT = "left"  # three-quarters, turned to the picture's left
    RIGHT = "right"
    BACK = "back"


class HairStyle(StrEnum):
    SHORT = "short"
    LONG = "long"
    BUN = "bun"
    BALD = "bald"


def rows_from(painter: Painter, y: float) -> NDArray[np.bool_]:
    rows = np.arange(painter.shape[0])[:, None] >= y * painter.supersample
    return np.broadcast_to(rows, painter.shape)


def cols_outside(painter: Painter, cx: float, half: float) -> NDArray[np.bool_]:
    xs = np.arange(painter.shape[1])[None, :] / painter.supersample
    return np.broadcast_to(np.abs(xs - cx) > half, painter.shape)


def draw_covering_front(
    painter: Painter,
    look: "HeadLook",
    rng: np.random.Generator,
    *,
    cx: float,
    top: float,
    u: float,
    dx: float,
    head_part: int,
) -> None:
    color = look.covering_color
    if look.covering is Covering.TOQUE:
        height = look.toque_height * u
        crown = painter.ellipse((cx, top - height * 0.45), (0.5 * u, height * 0.6 + 0.1 * u))
        body = painter.polygon(
            [
                (cx - 0.42 * u, top + 0.2 * u),
                (cx - 0.5 * u, top - height * 0.45),
                (cx + 0.5 * u, top - height * 0.45),
                (cx + 0.42 * u, top + 0.2 * u),
            ]
        )
        shape = crown | body
        painter.fill(shape, painter.texture(rng, color, amplitude=5), head_part)
        painter.shade(shape, (cx - 0.15 * u, top - height * 0.6), 0.8 * u + height, 0.25)
        pleat_color = scaled_color(color, 0.85)
        for k in (-0.3, -0.1, 0.1, 0.3):
            pleat = (
                painter.polyline(
                    [(cx + k * u, top - 0.02 * u), (cx + k * 1.3 * u, top - height * 0.85)],
                    max(0.025 * u, 0.5),
                )
                & shape
            )
            painter.fill(pleat, pleat_color, head_part)
        band = painter.polygon(
            [
                (cx - 0.42 * u, top + 0.22 * u),
                (cx - 0.44 * u, top - 0.05 * u),
                (cx + 0.44 * u, top - 0.05 * u),
                (cx + 0.42 * u, top + 0.22 * u),
            ]
        )
        painter.fill(band, scaled_color(color, 0.95), head_part)
    elif look.covering is Covering.HAIRNET:
        dome = painter.ellipse((cx, top + 0.36 * u), (0.47 * u, 0.48 * u)) & ~rows_from(
            painter, top + 0.4 * u
        )
        mesh = painter.texture(rng, color, amplitude=18, grain=1.5)
        painter.fill(dome, mesh, head_part, opacity=0.9)
        painter.shade(dome, (cx - 0.1 * u, top), 0.6 * u, 0.2)
        ruffle = [(cx + k * u, top + 0.38 * u) for k in np.linspace(-0.44, 0.44, 9)]
        for point in ruffle:
            painter.fill(painter.circle(point, 0.055 * u), scaled_color(color, 0.93), head_part)
    else:
        dome = painter.ellipse((cx, top + 0.47 * u), (0.41 * u, 0.54 * u)) & ~rows_from(
            painter, top + 0.3 * u
        )
        painter.fill(dome, painter.texture(rng, color, amplitude=6), head_part)
        painter.shade(dome, (cx, top), 0.5 * u, 0.25)
        if look.toque_height > 0.7:  # a baseball cap's brim (the skull caps have none)
            brim = painter.ellipse((cx + dx * 1.5, top + 0.3 * u), (0.42 * u, 0.08 * u))
            painter.fill(brim, scaled_color(color, 0.8), head_part)


def draw_head_top(
    painter: Painter,
    look: "HeadLook",
    rng: np.random.Generator,
    *,
    cx: float,
    cy: float,
    u: float,
    head_part: int,
) -> None:
    """A head seen from straight above, nose towards the top of the sprite; no face is visible."""
    for side in (-1, 1):
        painter.fill(
            painter.ellipse((cx + side * 0.36 * u, cy), (0.07 * u, 0.11 * u)),
            scaled_color(look.skin, 0.9),
            head_part,
        )
    painter.fill(
        painter.ellipse((cx, cy - 0.42 * u), (0.08 * u, 0.07 * u)), look.skin, head_part
    )  # nose tip
    skull = painter.ellipse((cx, cy), (0.36 * u, 0.43 * u))
    painter.fill(skull, painter.texture(rng, look.skin, amplitude=6), head_part)
    color = look.covering_color
    if look.covering is Covering.NONE:
        if look.hair_style is HairStyle.BALD:
            painter.shade(skull, (cx - 0.1 * u, cy - 0.1 * u), 0.5 * u, 0.3)
            return
        hair = painter.ellipse((cx, cy + 0.04 * u), (0.37 * u, 0.42 * u))
        painter.fill(hair, painter.texture(rng, look.hair, amplitude=16, grain=1.3), head_part)
        painter.shade(hair, (cx - 0.05 * u, cy), 0.45 * u, 0.25)
        if look.hair_style is HairStyle.BUN:
            painter.fill(
                painter.circle((cx, cy + 0.25 * u), 0.16 * u),
                scaled_color(look.hair, 0.9),
                head_part,
            )
        elif look.hair_style is HairStyle.LONG:
            tail = painter.ellipse((cx, cy + 0.55 * u), (0.2 * u, 0.35 * u))
            painter.fill(tail, painter.texture(rng, look.hair, amplitude=16), head_part)
    elif look.covering is Covering.TOQUE:
        radius = (0.5 + 0.25 * look.toque_height) * u
        crown = painter.circle((cx, cy + 0.03 * u), radius)
        painter.fill(crown, painter.texture(rng, color, amplitude=5), head_part)
        painter.shade(crown, (cx - 0.2 * radius, cy - 0.2 * radius), radius * 1.2, 0.3)
        pleat = scaled_color(color, 0.86)
        for angle in np.linspace(0, 2 * np.pi, 10, endpoint=False):
            end = (
                cx + np.cos(angle) * radius * 0.95,
                cy + 0.03 * u + np.sin(angle) * radius * 0.95,
            )
            line = painter.polyline(
                [
                    (
                        cx + np.cos(angle) * radius * 0.35,
                        cy + 0.03 * u + np.sin(angle) * radius * 0.35,
                    ),
                    end,
                ],
                max(0.03 * u, 0.5),
            )
            painter.fill(line & crown, pleat, head_part)
    elif look.covering is Covering.HAIRNET:
        net = painter.circle((cx, cy + 0.03 * u), 0.5 * u)
        painter.fill(net, painter.texture(rng, color, amplitude=18, grain=1.5), head_part)
        painter.shade(net, (cx - 0.1 * u, cy - 0.1 * u), 0.6 * u, 0.25)
        for angle in np.linspace(0, 2 * np.pi, 14, endpoint=False):
            point = (cx + np.cos(angle) * 0.48 * u, cy + 0.03 * u + np.sin(angle) * 0.48 * u)
            painter.fill(painter.circle(point, 0.06 * u), scaled_color(color, 0.92), head_part)
    else:
        if look.toque_height > 0.7:
            brim = painter.ellipse((cx, cy - 0.38 * u), (0.3 * u, 0.22 * u))
            painter.fill(brim, scaled_color(color, 0.8), head_part)
        dome = painter.ellipse((cx, cy + 0.02 * u), (0.39 * u, 0.44 * u))
        painter.fill(dome, painter.texture(rng, color, amplitude=6), head_part)
        painter.shade(dome, (cx, cy), 0.45 * u, 0.3)
