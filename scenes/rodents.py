"""Rats and mice in several poses, tails included; drawn facing right, flipped by the scene."""

from enum import StrEnum

import numpy as np

from scenes.classes import KitchenClass
from scenes.sprite import Color, Painter, Role, Sprite, Texture, curve, jitter, scaled_color


class RodentKind(StrEnum):
    RAT = "rat"
    MOUSE = "mouse"


class RodentPose(StrEnum):
    WALK = "walk"
    RUN = "run"
    SIT = "sit"  # up on the haunches
    CURL = "curl"
    TOP = "top"  # seen from above


RAT_COLORS: tuple[Color, ...] = (
    (70, 85, 100),
    (58, 60, 66),
    (36, 36, 40),
    (85, 105, 125),
    (95, 100, 105),
)
MOUSE_COLORS: tuple[Color, ...] = ((100, 112, 122), (140, 140, 142), (70, 95, 125), (120, 135, 150))
_PINK: Color = (150, 150, 190)


def random_rodent(rng: np.random.Generator, *, top_view: bool) -> tuple[RodentKind, RodentPose]:
    kind = RodentKind.RAT if rng.random() < 0.6 else RodentKind.MOUSE
    if top_view:
        return kind, RodentPose.TOP
    pose = RodentPose(rng.choice(list(RodentPose), p=[0.4, 0.25, 0.12, 0.1, 0.13]))
    return kind, pose


def draw_rodent(
    rng: np.random.Generator,
    *,
    kind: RodentKind,
    pose: RodentPose,
    length_px: float,
    night: bool,
    tail_phase: float | None = None,
) -> Sprite:
    """A rodent whose body (nose to rump, tail excluded) is length_px long; anchor under its feet.

    tail_phase (0..1) sets the tail's sway, for smooth animation; None picks one at random.
    """
    ln = length_px
    rat = kind is RodentKind.RAT
    palette = RAT_COLORS if rat else MOUSE_COLORS
    fur = jitter(rng, palette[int(rng.integers(len(palette)))], 10)
    phase = float(rng.random()) if tail_phase is None else tail_phase
    sway = np.sin(phase * 2 * np.pi)
    width, height = 3.0 * ln, 1.6 * ln
    painter = Painter(width, height, supersample=3 if ln < 30 else 2)
    cx, cy = 1.6 * ln, 0.9 * ln
    tail_w = (0.08 if rat else 0.05) * ln
    tail_color = scaled_color(_PINK, 0.75) if rat else scaled_color(fur, 1.1)
    fur_tex = painter.texture(rng, fur, amplitude=12, grain=1.2)
    eye_color: Color = (235, 240, 240) if night else (15, 15, 15)
    ear_r = (0.085 if rat else 0.13) * ln
    if pose is RodentPose.TOP:
        _top(painter, cx, cy, ln, fur_tex, fur, tail_w, tail_color, sway, ear_r, eye_color)
        return painter.finish((Role(KitchenClass.RODENT.value, None, 0.5),), anchor_xy=(cx, cy))
    ground = cy + 0.25 * ln
    tail_start = (cx - 0.42 * ln, cy + 0.08 * ln)
    if pose is RodentPose.CURL:
        tail = curve(
            [
                tail_start,
                (cx - 0.5 * ln, ground + 0.05 * ln),
                (cx + 0.3 * ln, ground + 0.1 * ln),
                (cx + 0.55 * ln, ground - 0.05 * ln * sway),
            ]
        )
    else:
        lift = 0.35 * sway
        tail = curve(
            [
                tail_start,
                (cx - 0.9 * ln, cy + (0.25 + lift) * ln),
                (cx - 1.25 * ln, cy - lift * ln),
                (cx - 1.5 * ln, cy + 0.2 * ln),
            ]
        )
    painter.fill(painter.tapered(tail, tail_w, max(tail_w * 0.25, 0.35)), tail_color, 0)
    if pose is RodentPose.SIT:
        body = painter.ellipse((cx - 0.05 * ln, cy - 0.1 * ln), (0.36 * ln, 0.24 * ln), -60)
        head_c, head_angle = (cx + 0.15 * ln, cy - 0.45 * ln), -40.0
    elif pose is RodentPose.CURL:
        body = painter.ellipse((cx, cy + 0.02 * ln), (0.4 * ln, 0.24 * ln))
        head_c, head_angle = (cx + 0.32 * ln, cy + 0.08 * ln), 35.0
    elif pose is RodentPose.RUN:
        body = painter.ellipse((cx, cy + 0.04 * ln), (0.56 * ln, 0.19 * ln))
        head_c, head_angle = (cx + 0.5 * ln, cy + 0.03 * ln), 5.0
    else:
        body = painter.ellipse((cx, cy), (0.5 * ln, 0.23 * ln) if rat else (0.45 * ln, 0.25 * ln))
        head_c, head_angle = (cx + 0.45 * ln, cy + 0.02 * ln), 12.0
    foot = scaled_color(_PINK, 0.9)
    for fx in (-0.28, 0.25):
        leg = painter.ellipse((cx + fx * ln, ground - 0.03 * ln), (0.07 * ln, 0.05 * ln))
        painter.fill(leg, foot, 0)
    painter.fill(body, fur_tex, 0)
    painter.shade(body, (cx, cy - 0.2 * ln), 0.6 * ln, 0.35)
    rad = np.radians(head_angle)
    direction = np.array([np.cos(rad), np.sin(rad)])
    head = painter.ellipse(head_c, (0.22 * ln, 0.14 * ln), head_angle)
    snout_tip = (head_c[0] + direction[0] * 0.33 * ln, head_c[1] + direction[1] * 0.33 * ln)
    normal = np.array([-direction[1], direction[0]]) * 0.1 * ln
    snout = painter.polygon(
        [
            (head_c[0] + normal[0], head_c[1] + normal[1]),
            snout_tip,
            (head_c[0] - normal[0], head_c[1] - normal[1]),
        ]
    )
    painter.fill(head | snout, fur_tex, 0)
    painter.fill(painter.circle(snout_tip, max(0.03 * ln, 0.4)), _PINK, 0)
    ear_c = (
        head_c[0] - direction[0] * 0.1 * ln + normal[0] * 1.3,
        head_c[1] - direction[1] * 0.1 * ln - 0.12 * ln,
    )
    painter.fill(painter.circle(ear_c, ear_r), scaled_color(fur, 0.9), 0)
    painter.fill(painter.circle(ear_c, ear_r * 0.6), _PINK, 0)
    eye_c = (head_c[0] + direction[0] * 0.1 * ln, head_c[1] + direction[1] * 0.1 * ln - 0.04 * ln)
    painter.fill(painter.circle(eye_c, max(0.03 * ln, 0.45)), eye_color, 0)
    return painter.finish((Role(KitchenClass.RODENT.value, None, 0.5),), anchor_xy=(cx, ground))


def _top(
    painter: Painter,
    cx: float,
    cy: float,
    ln: float,
    fur_tex: Texture,
    fur: Color,
    tail_w: float,
    tail_color: Color,
    sway: float,
    ear_r: float,
    eye_color: Color,
) -> None:
    tail = curve(
        [
            (cx - 0.45 * ln, cy),
            (cx - 0.9 * ln, cy + 0.3 * ln * sway),
            (cx - 1.2 * ln, cy - 0.3 * ln * sway),
            (cx - 1.5 * ln, cy + 0.1 * ln),
        ]
    )
    painter.fill(painter.tapered(tail, tail_w, max(tail_w * 0.25, 0.35)), tail_color, 0)
    body = painter.ellipse((cx, cy), (0.5 * ln, 0.21 * ln))
    head = painter.polygon(
        [(cx + 0.3 * ln, cy - 0.16 * ln), (cx + 0.8 * ln, cy), (cx + 0.3 * ln, cy + 0.16 * ln)]
    )
    for side in (-1, 1):
        painter.fill(
            painter.circle((cx + 0.4 * ln, cy + side * 0.15 * ln), ear_r),
            scaled_color(fur, 0.85),
            0,
        )
    painter.fill(body | head, fur_tex, 0)
    painter.shade(body, (cx, cy), 0.5 * ln, 0.3)
    for side in (-1, 1):
        painter.fill(
            painter.circle((cx + 0.58 * ln, cy + side * 0.07 * ln), max(0.025 * ln, 0.4)),
            eye_color,
            0,
        )
    painter.fill(painter.circle((cx + 0.8 * ln, cy), max(0.03 * ln, 0.4)), _PINK, 0)
