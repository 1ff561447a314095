"""Food containers (trays, basins, bowls) holding food, open or covered by a lid or cling film."""

from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from scenes.classes import KitchenClass
from scenes.sprite import Color, Painter, Role, Sprite, jitter, scaled_color


class Container(StrEnum):
    TRAY = "tray"  # a gastronorm pan
    BASIN = "basin"
    BOWL = "bowl"


class Cover(StrEnum):
    NONE = "none"
    LID = "lid"
    FILM = "film"  # cling film: the food shows through a glossy haze


class Food(StrEnum):
    RICE = "rice"
    GREENS = "greens"
    STEW = "stew"
    NOODLES = "noodles"
    MEAT = "meat"
    BUNS = "buns"
    SOUP = "soup"
    MIXED = "mixed"


_FOOD_BASE: dict[Food, Color] = {
    Food.RICE: (222, 232, 238),
    Food.GREENS: (40, 125, 55),
    Food.STEW: (40, 75, 125),
    Food.NOODLES: (110, 195, 228),
    Food.MEAT: (45, 65, 135),
    Food.BUNS: (200, 215, 225),
    Food.SOUP: (55, 120, 195),
    Food.MIXED: (70, 120, 150),
}
_FOOD_BITS: dict[Food, tuple[Color, ...]] = {
    Food.RICE: ((245, 248, 250), (200, 210, 215)),
    Food.GREENS: ((30, 90, 30), (80, 170, 90), (60, 150, 70)),
    Food.STEW: ((30, 120, 220), (35, 50, 100), (60, 150, 90)),
    Food.NOODLES: ((130, 215, 240), (60, 150, 200)),
    Food.MEAT: ((30, 45, 110), (70, 90, 160), (40, 40, 80)),
    Food.BUNS: ((235, 240, 245),),
    Food.SOUP: ((90, 170, 230), (40, 200, 120)),
    Food.MIXED: ((30, 120, 220), (50, 160, 60), (40, 50, 140), (220, 230, 235)),
}
_STEEL: Color = (200, 198, 195)
BOWL_COLORS: tuple[Color, ...] = (
    (240, 240, 240),
    (200, 150, 90),
    (60, 60, 170),
    (90, 160, 80),
    (235, 235, 225),
    (40, 40, 45),
)
LID_COLORS: tuple[Color, ...] = (
    _STEEL,
    _STEEL,
    (230, 180, 120),
    (240, 240, 240),
    (120, 190, 110),
    (80, 80, 200),
)


def random_container(
    rng: np.random.Generator, *, covered_probability: float
) -> tuple[Container, Cover, Food]:
    container = Container(rng.choice(list(Container), p=[0.5, 0.25, 0.25]))
    if rng.random() < covered_probability:
        cover = Cover.LID if rng.random() < 0.5 else Cover.FILM
    else:
        cover = Cover.NONE
    return container, cover, Food(rng.choice(list(Food)))


def draw_container(
    rng: np.random.Generator,
    *,
    container: Container,
    cover: Cover,
    food: Food | None,
    width_px: float,
    squash: float,
) -> Sprite:
    """A container width_px wide seen at squash (1 from straight above, ~0.3 grazing); anchor at its
    front bottom edge. Without food it is an empty container and carries no label."""
    wd = width_px
    k = float(np.clip(squash, 0.2, 1.0))
    side_h = (
        (0.13 if container is Container.TRAY else 0.22 if container is Container.BASIN else 0.3)
        * wd
        * np.sqrt(1 - k * k)
    )
    depth = (0.62 if container is Container.TRAY else 1.0) * wd * k
    painter = Painter(wd * 1.1, depth + side_h + wd * 0.1, supersample=3 if wd < 40 else 2)
    cx, top = wd * 0.55, wd * 0.04
    part = 0 if food is not None else None
    rim_color = (
        _STEEL
        if container is not Container.BOWL
        else jitter(rng, BOWL_COLORS[int(rng.integers(len(BOWL_COLORS)))], 10)
    )
    rim_color = jitter(rng, rim_color, 12)
    if container is Container.TRAY:
        outer = painter.polygon(
            [
                (cx - wd / 2, top),
                (cx + wd / 2, top),
                (cx + wd / 2, top + depth),
                (cx - wd / 2, top + depth),
            ]
        )
        side = painter.polygon(
            [
                (cx - wd / 2, top + depth * 0.5),
                (cx + wd / 2, top + depth * 0.5),
                (cx + wd * 0.47, top + depth + side_h),
                (cx - wd * 0.47, top + depth + side_h),
            ]
        )
        r = 0.05 * wd
        inner = painter.polygon(
            [
                (cx - wd / 2 + r, top + r * k),
                (cx + wd / 2 - r, top + r * k),
                (cx + wd / 2 - r, top + depth - r * k),
                (cx - wd / 2 + r, top + depth - r * k),
            ]
        )
    else:
        center = (cx, top + depth / 2)
        outer = painter.ellipse(center, (wd / 2, depth / 2))
        bottom = (cx, top + depth / 2 + side_h)
        scale = 0.7 if container is Container.BASIN else 0.55
        side = painter.ellipse(bottom, (wd / 2 * scale, depth / 2 * scale)) | painter.polygon(
            [
                (cx - wd / 2, center[1]),
                (cx + wd / 2, center[1]),
                (cx + wd / 2 * scale, bottom[1]),
                (cx - wd / 2 * scale, bottom[1]),
            ]
        )
        inner = painter.ellipse(center, (wd / 2 * 0.9, depth / 2 * 0.9))
    painter.fill(side, painter.texture(rng, scaled_color(rim_color, 0.75), amplitude=6), part)
    painter.shade(side, (cx - wd * 0.2, top + depth), wd * 0.7, 0.35)
    painter.fill(outer, painter.texture(rng, rim_color, amplitude=5), part)
    inside = scaled_color(rim_color, 0.6)
    if food is None:
        painter.fill(inner, painter.texture(rng, inside, amplitude=6), part)
        painter.shade(inner, (cx, top + depth * 0.3), wd * 0.6, 0.3)
        return painter.finish((), anchor_xy=(cx, top + depth + side_h))
    _draw_food(painter, rng, food, inner, wd, part=0)
    if cover is Cover.LID:
        _draw_lid(painter, rng, container, cx, top, wd, depth, k)
    elif cover is Cover.FILM:
        _draw_film(painter, rng, inner | outer, cx, top, wd, depth)
    label = KitchenClass.FOOD_UNCOVERED if cover is Cover.NONE else KitchenClass.FOOD_COVERED
    return painter.finish((Role(label.value, None, 0.5),), anchor_xy=(cx, top + depth + side_h))


def _draw_food(
    painter: Painter,
    rng: np.random.Generator,
    food: Food,
    region: NDArray[np.bool_],
    wd: float,
    *,
    part: int,
) -> None:
    painter.fill(
        region,
        painter.texture(
            rng, jitter(rng, _FOOD_BASE[food], 12), amplitude=16, grain=1.0, blotch_px=wd * 0.12
        ),
        part,
    )
    ys, xs = np.nonzero(region)
    if len(xs) == 0:
        return
    s = painter.supersample
    x0, x1, y0, y1 = xs.min() / s, xs.max() / s, ys.min() / s, ys.max() / s
    bits = _FOOD_BITS[food]
    count = int(rng.integers(8, 22))
    for _ in range(count):
        color = jitter(rng, bits[int(rng.integers(len(bits)))], 15)
        px, py = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
        size = wd * float(rng.uniform(0.03, 0.09))
        if food is Food.NOODLES:
            end = (
                px + float(rng.uniform(-1, 1)) * wd * 0.2,
                py + float(rng.uniform(-1, 1)) * wd * 0.1,
            )
            shape = painter.polyline([(px, py), end], max(0.02 * wd, 0.6))
        elif food is Food.BUNS:
            shape = painter.ellipse((px, py), (size * 1.6, size * 1.2))
        elif food is Food.SOUP:
            shape = painter.ellipse((px, py), (size * 0.6, size * 0.3))
        else:
            shape = painter.ellipse(
                (px, py), (size, size * float(rng.uniform(0.5, 1.0))), float(rng.uniform(0, 180))
            )
        painter.fill(shape & region, color, part)


def _draw_lid(
    painter: Painter,
    rng: np.random.Generator,
    container: Container,
    cx: float,
    top: float,
    wd: float,
    depth: float,
    k: float,
) -> None:
    color = jitter(rng, LID_COLORS[int(rng.integers(len(LID_COLORS)))], 10)
    dome = depth * float(rng.uniform(0.05, 0.25)) * (1 - k + 0.2)
    if container is Container.TRAY:
        lid = painter.polygon(
            [
                (cx - wd * 0.51, top - 0.01 * wd),
                (cx + wd * 0.51, top - 0.01 * wd),
                (cx + wd * 0.51, top + depth + 0.01 * wd),
                (cx - wd * 0.51, top + depth + 0.01 * wd),
            ]
        )
        lid |= painter.ellipse((cx, top + depth * 0.5), (wd * 0.5, depth * 0.5 + dome))
    else:
        lid = painter.ellipse((cx, top + depth / 2), (wd * 0.51, depth * 0.51))
        lid |= painter.ellipse((cx, top + depth / 2 - dome), (wd * 0.45, depth * 0.45))
    painter.fill(lid, painter.texture(rng, color, amplitude=5), 0)
    painter.shade(lid, (cx - wd * 0.15, top + depth * 0.3), wd * 0.8, 0.3)
    highlight = painter.ellipse(
        (cx - wd * 0.15, top + depth * 0.35 - dome), (wd * 0.18, depth * 0.08 + 0.5), -10
    )
    painter.fill(highlight & lid, scaled_color(color, 1.2), 0)
    handle = painter.ellipse((cx, top + depth * 0.5 - dome), (wd * 0.1, max(depth * 0.06, 1.0)))
    painter.fill(handle, scaled_color(color, 0.6), 0)


def _draw_film(
    painter: Painter,
    rng: np.random.Generator,
    region: NDArray[np.bool_],
    cx: float,
    top: float,
    wd: float,
    depth: float,
) -> None:
    haze = jitter(rng, (245, 240, 235), 8)
    painter.fill(region, haze, 0, opacity=float(rng.uniform(0.22, 0.38)))
    for _ in range(int(rng.integers(3, 7))):
        x = cx + float(rng.uniform(-0.45, 0.35)) * wd
        y = top + float(rng.uniform(0.05, 0.95)) * depth
        end = (x + float(rng.uniform(0.08, 0.3)) * wd, y + float(rng.uniform(-0.15, 0.15)) * depth)
        streak = painter.polyline([(x, y), end], max(wd * float(rng.uniform(0.008, 0.025)), 0.5))
        painter.fill(streak & region, (252, 252, 252), 0, opacity=0.85)
    for _ in range(int(rng.integers(2, 5))):
        x = cx + float(rng.uniform(-0.45, 0.45)) * wd
        y = top + float(rng.uniform(0.0, 1.0)) * depth
        wrinkle = painter.polyline(
            [
                (x, y),
                (x + float(rng.uniform(-0.1, 0.1)) * wd, y + float(rng.uniform(0.1, 0.3)) * depth),
            ],
            max(wd * 0.006, 0.4),
        )
        painter.fill(wrinkle & region, (235, 235, 235), 0, opacity=0.6)
