"""Kitchen backgrounds: tiled or painted walls, shelves, stoves and fridges, floors and counters."""

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

from scenes.sprite import Color, Painter, Sprite, jitter, scaled_color


class View(StrEnum):
    WALL = "wall"  # a camera high on a wall, looking across the room
    CEILING = "ceiling"  # a camera on the ceiling, looking down


WALL_TILES: tuple[Color, ...] = (
    (232, 236, 238),
    (215, 225, 225),
    (220, 215, 190),
    (200, 225, 205),
    (190, 210, 225),
    (160, 160, 160),
)
FLOOR_COLORS: tuple[Color, ...] = (
    (60, 75, 150),
    (125, 128, 130),
    (150, 175, 195),
    (95, 130, 95),
    (90, 90, 95),
    (170, 170, 165),
)
STEEL: Color = (192, 190, 186)


@dataclass(frozen=True, slots=True)
class Counter:
    """A work counter: its top is where food and rodents can stand."""

    x0: float
    x1: float
    front_y: float  # where its front meets the floor (wall view) or its front edge (ceiling view)
    top_front_y: float  # the top surface's front edge
    top_back_y: float  # the top surface's back edge


@dataclass(frozen=True, slots=True)
class Layout:
    view: View
    image: NDArray[np.uint8]  # (H, W, 3) BGR background: walls, floor, fixed furniture
    floor_top_y: float  # where the floor begins (the wall's foot; 0 from the ceiling)
    vanish_y: float  # the horizon, for the wall view's perspective
    head_near_px: float  # head height of a person standing at the bottom edge
    counters: tuple[Counter, ...]  # wall view: drawn as occluding sprites; ceiling view: in image

    def head_px_at(self, y: float) -> float:
        """Height of a head whose person stands at image row y (ceiling: the head's own row)."""
        if self.view is View.CEILING:
            height = float(self.image.shape[0])
            return float(self.head_near_px * (0.8 + 0.2 * y / height))
        height = float(self.image.shape[0])
        return float(self.head_near_px * max(y - self.vanish_y, 1.0) / (height - self.vanish_y))


def render_background(
    rng: np.random.Generator, view: View, width: int, height: int, *, head_px: tuple[float, float]
) -> Layout:
    if view is View.CEILING:
        return _ceiling(rng, width, height, head_px)
    return _wall(rng, width, height, head_px)


def _noise(
    rng: np.random.Generator, image: NDArray[np.float32], amplitude: float, cell_px: int
) -> None:
    h, w = image.shape[:2]
    low = rng.normal(0.0, amplitude, size=(max(2, h // cell_px), max(2, w // cell_px))).astype(
        np.float32
    )
    image += cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)[..., None]
    image += rng.normal(0.0, amplitude * 0.3, size=(h, w)).astype(np.float32)[..., None]


def _tiles(
    rng: np.random.Generator,
    image: NDArray[np.float32],
    y0: int,
    y1: int,
    color: Color,
    tile_px: int,
) -> None:
    h, w = y1 - y0, image.shape[1]
    if h <= 0:
        return
    rows, cols = h // tile_px + 2, w // tile_px + 2
    shade = rng.normal(0.0, 5.0, size=(rows, cols)).astype(np.float32)
    ys, xs = np.mgrid[0:h, 0:w]
    region = np.empty((h, w, 3), dtype=np.float32)
    region[:] = color
    region += shade[ys // tile_px, xs // tile_px][..., None]
    grout_px = max(1, tile_px // 14)
    grout = ((ys % tile_px) < grout_px) | ((xs % tile_px) < grout_px)
    region[grout] = scaled_color(color, 0.72)
    image[y0:y1] = region


def _wall(
    rng: np.random.Generator, width: int, height: int, head_px: tuple[float, float]
) -> Layout:
    image = np.zeros((height, width, 3), dtype=np.float32)
    floor_y = int(height * rng.uniform(0.22, 0.5))
    style = rng.choice(["tiles", "tiles", "paint", "steel"])
    wall_color = jitter(rng, WALL_TILES[int(rng.integers(len(WALL_TILES)))], 10)
    if style == "tiles":
        _tiles(rng, image, 0, floor_y, wall_color, int(rng.integers(10, 28)))
    elif style == "steel":
        image[:floor_y] = STEEL
        for panel_x in range(0, width, int(rng.integers(40, 90))):
            image[:floor_y, panel_x : panel_x + 2] = scaled_color(STEEL, 0.75)
    else:
        image[:floor_y] = wall_color
    # the floor, in perspective: rows get closer towards the horizon
    floor_color = jitter(rng, FLOOR_COLORS[int(rng.integers(len(FLOOR_COLORS)))], 10)
    image[floor_y:] = floor_color
    vanish_y = floor_y - height * rng.uniform(0.2, 0.7)
    vanish_x = width * rng.uniform(0.1, 0.9)
    grout = scaled_color(floor_color, 0.7)
    depth = 1.0
    while True:
        y = vanish_y + (height - vanish_y) / depth
        if y <= floor_y:
            break
        cv2.line(image, (0, int(y)), (width, int(y)), grout, 1)
        depth += float(rng.uniform(0.25, 0.4))
    spacing = width * rng.uniform(0.08, 0.16)
    for k in range(-30, 31):
        bottom_x = vanish_x + k * spacing * 1.6
        t = (floor_y - vanish_y) / (height - vanish_y)
        top_x = vanish_x + (bottom_x - vanish_x) * t
        cv2.line(image, (int(top_x), floor_y), (int(bottom_x), height), grout, 1)
    _noise(rng, image, 4.0, 24)
    # the skirting and what stands against the wall
    head_near = float(rng.uniform(min(head_px[0] * 2.2, head_px[1]), head_px[1]))
    head_at_wall = head_near * (floor_y - vanish_y) / (height - vanish_y)
    unit = head_at_wall  # a head's height is about 22 cm: a unit for furniture sizes at the wall
    image[floor_y - 2 : floor_y + 1] = scaled_color(wall_color, 0.6)
    x = float(rng.uniform(-unit * 3, unit * 2))
    while x < width:
        kind = rng.choice(["shelf", "stove", "fridge", "sink", "gap", "window"])
        span = float(rng.uniform(4, 9)) * unit
        _fixture(rng, image, str(kind), x, x + span, floor_y, unit)
        x += span + float(rng.uniform(0, 2)) * unit
    counters = _island_counters(rng, width, height, floor_y, vanish_y, head_near)
    return Layout(
        view=View.WALL,
        image=np.clip(image, 0, 255).astype(np.uint8),
        floor_top_y=float(floor_y),
        vanish_y=float(vanish_y),
        head_near_px=head_near,
        counters=counters,
    )


def _fixture(
    rng: np.random.Generator,
    image: NDArray[np.float32],
    kind: str,
    x0: float,
    x1: float,
    floor_y: int,
    unit: float,
) -> None:
    xa, xb = int(x0), int(x1)
    steel = jitter(rng, STEEL, 12)
    if kind == "shelf":
        top = int(floor_y - unit * rng.uniform(7, 9))
        for level in np.linspace(top, floor_y - unit * 0.5, int(rng.integers(3, 6))):
            y = int(level)
            cv2.rectangle(image, (xa, y), (xb, y + max(2, int(unit * 0.12))), steel, -1)
            # goods on the shelf: boxes, jars, bottles
            x = xa + 2.0
            while x < xb - unit * 0.5:
                w = float(rng.uniform(0.4, 1.5)) * unit
                h = float(rng.uniform(0.5, 1.6)) * unit
                color = tuple(float(c) for c in rng.uniform(30, 230, size=3))
                if x + w < xb:
                    cv2.rectangle(image, (int(x), int(y - h)), (int(x + w), y), color, -1)
                x += w + float(rng.uniform(0.05, 0.6)) * unit
        for post in (xa, xb - 3):
            cv2.rectangle(image, (post, top), (post + 3, floor_y), scaled_color(steel, 0.8), -1)
    elif kind == "stove":
        top = int(floor_y - unit * 4)
        cv2.rectangle(image, (xa, top), (xb, floor_y), scaled_color(steel, 0.55), -1)
        cv2.rectangle(image, (xa, top), (xb, top + max(2, int(unit * 0.4))), (40, 40, 40), -1)
        for kx in np.linspace(xa + unit, xb - unit, 4):
            cv2.circle(
                image, (int(kx), int(top + unit * 1.2)), max(1, int(unit * 0.15)), (30, 30, 30), -1
            )
        hood_y = int(top - unit * rng.uniform(3, 5))
        cv2.rectangle(
            image,
            (xa - int(unit * 0.5), hood_y - int(unit * 1.5)),
            (xb + int(unit * 0.5), hood_y),
            steel,
            -1,
        )
        for _ in range(int(rng.integers(1, 4))):
            px = float(rng.uniform(xa + unit, max(xa + unit + 1, xb - unit)))
            pot_w = unit * float(rng.uniform(1.2, 2.5))
            cv2.rectangle(
                image,
                (int(px - pot_w / 2), int(top - unit * 1.3)),
                (int(px + pot_w / 2), top),
                scaled_color(steel, 0.85),
                -1,
            )
    elif kind == "fridge":
        top = int(floor_y - unit * 8.5)
        cv2.rectangle(image, (xa, top), (xb, floor_y), steel, -1)
        mid = (xa + xb) // 2
        cv2.line(
            image, (mid, top), (mid, floor_y), scaled_color(steel, 0.7), max(1, int(unit * 0.08))
        )
        for hx in (mid - int(unit * 0.4), mid + int(unit * 0.3)):
            cv2.rectangle(
                image,
                (hx, int(top + unit * 3)),
                (hx + max(1, int(unit * 0.12)), int(top + unit * 5)),
                (60, 60, 60),
                -1,
            )
    elif kind == "sink":
        top = int(floor_y - unit * 4)
        cv2.rectangle(image, (xa, top), (xb, floor_y), steel, -1)
        cv2.rectangle(
            image,
            (xa + int(unit), top - int(unit * 0.3)),
            (xb - int(unit), top + int(unit * 0.3)),
            scaled_color(steel, 0.6),
            -1,
        )
        cv2.line(
            image,
            ((xa + xb) // 2, top - int(unit * 2)),
            ((xa + xb) // 2, top),
            scaled_color(steel, 0.7),
            max(1, int(unit * 0.15)),
        )
    elif kind == "window":
        top = int(floor_y - unit * rng.uniform(9, 12))
        bottom = int(floor_y - unit * 5)
        cv2.rectangle(image, (xa, top), (xb, bottom), (235, 225, 215), -1)
        cv2.rectangle(image, (xa, top), (xb, bottom), (200, 200, 200), max(1, int(unit * 0.2)))


def _island_counters(
    rng: np.random.Generator,
    width: int,
    height: int,
    floor_y: int,
    vanish_y: float,
    head_near: float,
) -> tuple[Counter, ...]:
    counters = []
    for _ in range(int(rng.choice([0, 1, 1, 2]))):
        front_y = float(
            rng.uniform(floor_y + (height - floor_y) * 0.2, floor_y + (height - floor_y) * 0.8)
        )
        unit = head_near * (front_y - vanish_y) / (height - vanish_y)
        span = float(rng.uniform(5, 11)) * unit
        x0 = float(rng.uniform(-span * 0.3, width - span * 0.7))
        top_front = front_y - unit * 3.0  # a high camera foreshortens the 90 cm counter
        # the top recedes towards the horizon: its apparent depth shrinks with distance
        top_back = top_front - unit * float(rng.uniform(1.0, 2.2)) * (front_y - floor_y) / (
            height - floor_y + 1
        )
        counters.append(Counter(x0, x0 + span, front_y, top_front, top_back - unit * 0.3))
    return tuple(counters)


def draw_counter(rng: np.random.Generator, counter: Counter) -> Sprite:
    """The occluding sprite of an island counter (wall view); anchor at its front foot, left."""
    width = counter.x1 - counter.x0
    height = counter.front_y - counter.top_back_y
    painter = Painter(width, height + 1, supersample=1)
    steel = jitter(rng, STEEL, 14)
    top_h = counter.top_front_y - counter.top_back_y
    top = painter.polygon([(0, 0), (width, 0), (width, top_h), (0, top_h)])
    painter.fill(
        top, painter.texture(rng, scaled_color(steel, 1.08), amplitude=8, blotch_px=top_h + 1)
    )
    front = painter.polygon([(0, top_h), (width, top_h), (width, height), (0, height)])
    painter.fill(
        front,
        painter.texture(
            rng, scaled_color(steel, 0.88), amplitude=6, blotch_px=(height - top_h) / 3 + 1
        ),
    )
    painter.fill(
        painter.polyline([(0, top_h), (width, top_h)], max(1.0, top_h * 0.08)),
        scaled_color(steel, 0.7),
    )
    doors = int(rng.integers(2, 6))
    for k in range(1, doors):
        x = width * k / doors
        painter.fill(
            painter.polyline([(x, top_h + 2), (x, height - 1)], 1.0), scaled_color(steel, 0.7)
        )
    return painter.finish((), anchor_xy=(0.0, height))


def _ceiling(
    rng: np.random.Generator, width: int, height: int, head_px: tuple[float, float]
) -> Layout:
    image = np.zeros((height, width, 3), dtype=np.float32)
    floor_color = jitter(rng, FLOOR_COLORS[int(rng.integers(len(FLOOR_COLORS)))], 10)
    low = head_px[0] * 1.2  # from above, heads vary less: nobody stands far away
    head_near = float(rng.uniform(low, max(low, head_px[1] * 0.7)))
    tile = max(8, int(head_near * rng.uniform(1.0, 2.0)))
    _tiles(rng, image, 0, height, floor_color, tile)
    counters = []
    for _ in range(int(rng.integers(1, 4))):
        horizontal = rng.random() < 0.5
        long_side, short_side = head_near * rng.uniform(8, 20), head_near * rng.uniform(2.5, 4)
        w, h = (long_side, short_side) if horizontal else (short_side, long_side)
        x0, y0 = (
            float(rng.uniform(-w * 0.3, width - w * 0.7)),
            float(rng.uniform(-h * 0.3, height - h * 0.7)),
        )
        kind = rng.choice(["counter", "counter", "stove", "shelf"])
        steel = jitter(rng, STEEL, 12)
        cv2.rectangle(image, (int(x0), int(y0)), (int(x0 + w), int(y0 + h)), steel, -1)
        cv2.rectangle(
            image, (int(x0), int(y0)), (int(x0 + w), int(y0 + h)), scaled_color(steel, 0.7), 2
        )
        if kind == "stove":
            for k in range(int(long_side // (head_near * 2.5))):
                c = (
                    (x0 + head_near * (1.3 + 2.5 * k), y0 + h / 2)
                    if horizontal
                    else (x0 + w / 2, y0 + head_near * (1.3 + 2.5 * k))
                )
                cv2.circle(image, (int(c[0]), int(c[1])), int(head_near * 0.8), (35, 35, 35), -1)
                cv2.circle(image, (int(c[0]), int(c[1])), int(head_near * 0.5), (60, 60, 60), 2)
        elif kind == "shelf":
            step = max(4, int(head_near * 0.6))
            for k in range(int(y0), int(y0 + h), step):
                cv2.line(image, (int(x0), k), (int(x0 + w), k), scaled_color(steel, 0.75), 1)
        else:
            counters.append(Counter(x0, x0 + w, y0 + h, y0 + h, y0))
    _noise(rng, image, 4.0, 32)
    return Layout(
        view=View.CEILING,
        image=np.clip(image, 0, 255).astype(np.uint8),
        floor_top_y=0.0,
        vanish_y=-1e6,
        head_near_px=head_near,
        counters=tuple(counters),
    )


def counter_at(
    layout: Layout, *, x0: float, x1: float, front_y: float, depth_units: float = 1.6
) -> Counter:
    """A wall-view island counter between columns x0 and x1 whose front stands on row front_y."""
    unit = layout.head_px_at(front_y)
    top_front = front_y - unit * 3.0
    return Counter(x0, x1, front_y, top_front, top_front - unit * depth_units)
