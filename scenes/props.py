"""Unlabelled kitchen clutter (pots, boxes, bins, cutting boards): things the model must ignore."""

import numpy as np

from scenes.food import Container, Cover, draw_container
from scenes.sprite import Painter, Sprite, jitter, scaled_color

_STEEL = (195, 192, 188)


def draw_prop(rng: np.random.Generator, *, unit_px: float, squash: float) -> Sprite:
    """A random prop sized for a place where a head is unit_px high; anchor at its base."""
    kind = rng.choice(["pot", "box", "bin", "board", "empty"])
    if kind == "empty":
        container = Container(rng.choice(list(Container)))
        return draw_container(
            rng,
            container=container,
            cover=Cover.NONE,
            food=None,
            width_px=unit_px * float(rng.uniform(1.5, 3)),
            squash=squash,
        )
    k = float(np.clip(squash, 0.25, 1.0))
    if kind == "board":
        w = unit_px * float(rng.uniform(1.5, 2.5))
        d = w * 0.6 * k
        painter = Painter(w, d + 2, supersample=2)
        color = jitter(
            rng,
            rng.choice([(150, 190, 220), (240, 240, 240), (90, 160, 90), (70, 70, 200)]).tolist(),
            10,
        )
        painter.fill(
            painter.polygon([(0, 0), (w, 0), (w, d), (0, d)]),
            painter.texture(rng, color, amplitude=6),
            None,
        )
        return painter.finish((), anchor_xy=(w / 2, d))
    if kind == "box":
        w = unit_px * float(rng.uniform(1.2, 3))
        h = w * float(rng.uniform(0.5, 1.2))
        top = w * 0.5 * k
        painter = Painter(w, h + top + 1, supersample=2)
        color = jitter(rng, (90, 140, 185), 25)
        painter.fill(
            painter.polygon([(0, top), (w, top), (w, h + top), (0, h + top)]),
            painter.texture(rng, color, amplitude=6),
            None,
        )
        painter.fill(
            painter.polygon([(0, 0), (w, 0), (w, top), (0, top)]), scaled_color(color, 1.15), None
        )
        painter.fill(
            painter.polyline([(w / 2, 0), (w / 2, top)], max(w * 0.05, 0.6)), (200, 200, 190), None
        )
        return painter.finish((), anchor_xy=(w / 2, h + top))
    # pot or bin: a cylinder seen from above at `squash`
    w = unit_px * float(rng.uniform(1.2, 2.2) if kind == "pot" else rng.uniform(1.8, 3.0))
    h = w * (0.7 if kind == "pot" else 1.6) * np.sqrt(1 - k * k)
    rim = w * 0.5 * k
    painter = Painter(w * 1.3, h + 2 * rim + 2, supersample=2)
    cx = w * 0.65
    color = jitter(
        rng,
        _STEEL
        if kind == "pot"
        else tuple(
            rng.choice([(60, 60, 60), (40, 120, 40), (150, 90, 40), (200, 200, 200)]).tolist()
        ),
        10,
    )
    body = painter.polygon(
        [(cx - w / 2, rim), (cx + w / 2, rim), (cx + w / 2, rim + h), (cx - w / 2, rim + h)]
    )
    body |= painter.ellipse((cx, rim + h), (w / 2, rim))
    painter.fill(body, painter.texture(rng, scaled_color(color, 0.85), amplitude=6), None)
    painter.shade(body, (cx - w * 0.2, rim + h * 0.3), w, 0.4)
    painter.fill(painter.ellipse((cx, rim), (w / 2, rim)), color, None)
    if kind == "pot":
        painter.fill(
            painter.ellipse((cx, rim), (w * 0.45, rim * 0.9)), scaled_color(color, 0.4), None
        )
        for side in (-1, 1):
            painter.fill(
                painter.ellipse(
                    (cx + side * w * 0.55, rim + h * 0.2), (w * 0.08, max(rim * 0.2, 0.6))
                ),
                scaled_color(color, 0.7),
                None,
            )
    return painter.finish((), anchor_xy=(cx, rim + h + rim * 0.5))


def draw_dark_dome(rng: np.random.Generator, *, unit_px: float, squash: float) -> Sprite:
    """A dark, rounded object (a rice cooker, a black bin bag, a wok lid, a stock pot's lid): a
    low dome on a short body in near-black, with a soft highlight; anchor at its base. From some
    cameras only its top shows above a container, and such a dark hump at the frame edge was read
    as a rodent."""
    k = float(np.clip(squash, 0.25, 1.0))
    w = unit_px * float(rng.uniform(1.4, 3.2))
    dome = w * float(rng.uniform(0.15, 0.45))
    body = w * float(rng.uniform(0.0, 0.6)) * np.sqrt(1 - k * k + 0.1)
    painter = Painter(w + 2, dome + body + 2, supersample=2)
    cx = w / 2 + 1
    grey = float(rng.uniform(18, 70))
    color = jitter(rng, (grey, grey * float(rng.uniform(0.9, 1.1)), grey), 6)
    shape = painter.ellipse((cx, dome + 1), (w / 2, dome))
    if body > 0.5:
        shape |= painter.polygon(
            [
                (cx - w / 2, dome + 1),
                (cx + w / 2, dome + 1),
                (cx + w / 2, dome + body + 1),
                (cx - w / 2, dome + body + 1),
            ]
        )
    painter.fill(shape, painter.texture(rng, color, amplitude=5), None)
    lit = (cx + w * float(rng.uniform(-0.25, 0.25)), dome * float(rng.uniform(0.3, 0.7)))
    painter.shade(shape, lit, w * 0.7, 0.5)
    if rng.random() < 0.6:  # a glossy highlight on the dome
        painter.fill(
            painter.ellipse(lit, (w * 0.12, max(dome * 0.15, 0.6))),
            scaled_color(color, float(rng.uniform(1.6, 2.6))),
            None,
        )
    if rng.random() < 0.4:  # a knob or handle on top
        painter.fill(
            painter.ellipse((cx, 1.5), (w * 0.06, max(dome * 0.12, 0.6))),
            scaled_color(color, 0.6),
            None,
        )
    return painter.finish((), anchor_xy=(cx, dome + body + 1))
