"""Cats: the hard negative for rodents (a cat in a kitchen at night is not a rat)."""

from enum import StrEnum

import numpy as np

from scenes.classes import KitchenClass
from scenes.sprite import Color, Painter, Role, Sprite, Texture, curve, jitter, scaled_color


class CatPose(StrEnum):
    WALK = "walk"
    SIT = "sit"  # facing the camera
    LIE = "lie"
    TOP = "top"


CAT_COLORS: tuple[Color, ...] = (
    (60, 130, 200),
    (30, 30, 32),
    (235, 235, 235),
    (120, 120, 125),
    (80, 110, 150),
    (170, 190, 210),
)


def random_cat_pose(rng: np.random.Generator, *, top_view: bool) -> CatPose:
    return (
        CatPose.TOP
        if top_view
        else CatPose(rng.choice([CatPose.WALK, CatPose.SIT, CatPose.LIE], p=[0.5, 0.3, 0.2]))
    )


def draw_cat(rng: np.random.Generator, *, pose: CatPose, length_px: float, night: bool) -> Sprite:
    """A cat whose body is length_px long (head and tail excluded); anchor under its feet."""
    ln = length_px
    fur = jitter(rng, CAT_COLORS[int(rng.integers(len(CAT_COLORS)))], 12)
    width, height = 2.6 * ln, 2.0 * ln
    painter = Painter(width, height, supersample=2)
    tex = painter.texture(rng, fur, amplitude=18, grain=0.8, blotch_px=0.25 * ln)
    eye: Color = (230, 240, 240) if night else (60, 170, 150)
    stripes = rng.random() < 0.5
    cx = 1.3 * ln
    if pose is CatPose.SIT:
        ground = 1.85 * ln
        body_c = (cx, ground - 0.45 * ln)
        tail = curve(
            [
                (cx + 0.2 * ln, ground - 0.05 * ln),
                (cx + 0.6 * ln, ground),
                (cx + 0.55 * ln, ground - 0.3 * ln),
            ]
        )
        painter.fill(painter.tapered(tail, 0.12 * ln, 0.08 * ln), tex, 0)
        body = painter.ellipse(body_c, (0.3 * ln, 0.45 * ln))
        painter.fill(body, tex, 0)
        painter.fill(
            painter.ellipse((cx, ground - 0.55 * ln), (0.13 * ln, 0.25 * ln)),
            scaled_color(fur, 1.2),
            0,
        )
        for side in (-1, 1):
            paw = painter.ellipse(
                (cx + side * 0.12 * ln, ground - 0.05 * ln), (0.08 * ln, 0.06 * ln)
            )
            painter.fill(paw, scaled_color(fur, 1.1), 0)
        _head(painter, tex, fur, eye, (cx, ground - 1.0 * ln), 0.24 * ln, front=True)
        if stripes:
            _stripes(painter, fur, body, body_c, ln, vertical=False)
        return painter.finish((Role(KitchenClass.CAT.value, None, 0.45),), anchor_xy=(cx, ground))
    if pose is CatPose.TOP:
        cy = 1.0 * ln
        tail = curve(
            [(cx - 0.45 * ln, cy), (cx - 0.8 * ln, cy + 0.25 * ln), (cx - 1.15 * ln, cy + 0.1 * ln)]
        )
        painter.fill(painter.tapered(tail, 0.14 * ln, 0.09 * ln), tex, 0)
        body = painter.ellipse((cx, cy), (0.5 * ln, 0.22 * ln))
        painter.fill(body, tex, 0)
        painter.shade(body, (cx, cy), 0.5 * ln, 0.3)
        head_c = (cx + 0.6 * ln, cy)
        for side in (-1, 1):
            ear = painter.polygon(
                [
                    (head_c[0] - 0.05 * ln, head_c[1] + side * 0.1 * ln),
                    (head_c[0] + 0.08 * ln, head_c[1] + side * 0.26 * ln),
                    (head_c[0] + 0.1 * ln, head_c[1] + side * 0.08 * ln),
                ]
            )
            painter.fill(ear, scaled_color(fur, 0.85), 0)
        painter.fill(painter.circle(head_c, 0.19 * ln), tex, 0)
        if stripes:
            _stripes(painter, fur, body, (cx, cy), ln, vertical=True)
        return painter.finish((Role(KitchenClass.CAT.value, None, 0.45),), anchor_xy=(cx, cy))
    lie = pose is CatPose.LIE
    ground = 1.85 * ln
    cy = ground - (0.25 if lie else 0.65) * ln
    tail_pts = (
        [
            (cx - 0.45 * ln, cy + 0.05 * ln),
            (cx - 0.8 * ln, ground),
            (cx - 1.2 * ln, ground - 0.05 * ln),
        ]
        if lie
        else [
            (cx - 0.45 * ln, cy - 0.05 * ln),
            (cx - 0.85 * ln, cy - 0.2 * ln),
            (cx - 0.9 * ln, cy - 0.8 * ln),
            (cx - 0.7 * ln, cy - 1.0 * ln),
        ]
    )
    painter.fill(painter.tapered(curve(tail_pts), 0.13 * ln, 0.09 * ln), tex, 0)
    if not lie:
        for fx in (-0.35, -0.2, 0.22, 0.38):
            leg = painter.polygon(
                [
                    (cx + fx * ln - 0.06 * ln, cy),
                    (cx + fx * ln + 0.06 * ln, cy),
                    (cx + fx * ln + 0.05 * ln, ground),
                    (cx + fx * ln - 0.05 * ln, ground),
                ]
            )
            painter.fill(leg, scaled_color(fur, 0.92 if fx < 0 else 1.0), 0)
    body_axes = (0.55 * ln, 0.26 * ln) if lie else (0.5 * ln, 0.2 * ln)
    body = painter.ellipse((cx, cy), body_axes)
    painter.fill(body, tex, 0)
    painter.shade(body, (cx, cy - 0.2 * ln), 0.6 * ln, 0.3)
    if stripes:
        _stripes(painter, fur, body, (cx, cy), ln, vertical=True)
    _head(
        painter,
        tex,
        fur,
        eye,
        (cx + 0.55 * ln, cy - (0.15 if lie else 0.3) * ln),
        0.21 * ln,
        front=False,
    )
    return painter.finish((Role(KitchenClass.CAT.value, None, 0.45),), anchor_xy=(cx, ground))


def _head(
    painter: Painter,
    tex: Texture,
    fur: Color,
    eye: Color,
    center: tuple[float, float],
    r: float,
    *,
    front: bool,
) -> None:
    hx, hy = center
    for side in (-1, 1) if front else (-1, 0.4):
        base = hx + side * 0.55 * r
        ear = painter.polygon(
            [
                (base - 0.4 * r, hy - 0.6 * r),
                (base + side * 0.25 * r, hy - 1.5 * r),
                (base + 0.45 * r, hy - 0.55 * r),
            ]
        )
        painter.fill(ear, scaled_color(fur, 0.9), 0)
    painter.fill(painter.ellipse(center, (r * 1.05, r)), tex, 0)
    muzzle_dx = 0.0 if front else 0.55 * r
    painter.fill(
        painter.ellipse((hx + muzzle_dx, hy + 0.45 * r), (0.45 * r, 0.3 * r)),
        scaled_color(fur, 1.15),
        0,
    )
    eyes = (-0.4, 0.4) if front else (0.25, 0.7)
    for ex in eyes:
        painter.fill(painter.ellipse((hx + ex * r, hy - 0.05 * r), (0.16 * r, 0.12 * r)), eye, 0)
        painter.fill(
            painter.ellipse((hx + ex * r, hy - 0.05 * r), (0.04 * r, 0.11 * r)), (10, 10, 10), 0
        )
    painter.fill(painter.circle((hx + muzzle_dx, hy + 0.3 * r), 0.08 * r), (140, 140, 190), 0)


def _stripes(
    painter: Painter,
    fur: Color,
    body: np.ndarray,
    center: tuple[float, float],
    ln: float,
    *,
    vertical: bool,
) -> None:
    dark = scaled_color(fur, 0.6)
    for k in np.linspace(-0.35, 0.35, 6):
        if vertical:
            line = painter.polyline(
                [
                    (center[0] + k * ln, center[1] - 0.3 * ln),
                    (center[0] + k * ln + 0.05 * ln, center[1] + 0.3 * ln),
                ],
                0.04 * ln,
            )
        else:
            line = painter.polyline(
                [
                    (center[0] - 0.3 * ln, center[1] + k * ln),
                    (center[0] + 0.3 * ln, center[1] + k * ln + 0.05 * ln),
                ],
                0.04 * ln,
            )
        painter.fill(line & body, dark, 0)
