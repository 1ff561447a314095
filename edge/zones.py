"""Zones: polygons in 0..1 frame coordinates, and which detection boxes stand inside them.

A box is in a zone when its bottom-centre point is: for people, rodents and bins seen by a
ceiling-mounted camera that point is where the object touches the floor, so a zone drawn on the
floor plan of a room means what it says (the same anchor supervision's PolygonZone uses). Anchors
are pulled a hair inside the frame, so a box touching the frame border counts as inside a zone that
reaches that border.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_BORDER_EPS = 1e-6
_MIN_AREA = 1e-6


def polygon_problem(points: Sequence[tuple[float, float]]) -> str | None:
    """Why `points` is not a usable zone polygon (0..1 coordinates), or None when it is."""
    if len(points) < 3:
        return f"a polygon needs at least 3 points, got {len(points)}"
    for index, (x, y) in enumerate(points):
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return f"point {index} is outside 0..1 (zones use fractions of the frame size)"
    crossing = _self_intersection(points)
    if crossing is not None:
        first, second = crossing
        return f"the polygon crosses itself (edges {first} and {second} intersect)"
    if abs(_signed_area(points)) < _MIN_AREA:
        return "the polygon has no area (its points are collinear or repeated)"
    return None


def _signed_area(points: Sequence[tuple[float, float]]) -> float:
    total = 0.0
    for index, (x1, y1) in enumerate(points):
        x2, y2 = points[(index + 1) % len(points)]
        total += x1 * y2 - x2 * y1
    return total / 2.0


def _orientation(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> int:
    value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return 0 if abs(value) < 1e-12 else (1 if value > 0 else -1)


def _on_segment(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> bool:
    return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])


def _segments_intersect(
    p1: tuple[float, float],
    p2: tuple[float, float],
    q1: tuple[float, float],
    q2: tuple[float, float],
) -> bool:
    o1, o2 = _orientation(p1, p2, q1), _orientation(p1, p2, q2)
    o3, o4 = _orientation(q1, q2, p1), _orientation(q1, q2, p2)
    if o1 != o2 and o3 != o4:
        return True
    return (
        (o1 == 0 and _on_segment(p1, p2, q1))
        or (o2 == 0 and _on_segment(p1, p2, q2))
        or (o3 == 0 and _on_segment(q1, q2, p1))
        or (o4 == 0 and _on_segment(q1, q2, p2))
    )


def _self_intersection(points: Sequence[tuple[float, float]]) -> tuple[int, int] | None:
    count = len(points)
    for i in range(count):
        for j in range(i + 2, count):
            if i == 0 and j == count - 1:
                continue  # the closing edge shares a corner with the first one
            if _segments_intersect(
                points[i], points[(i + 1) % count], points[j], points[(j + 1) % count]
            ):
                return i, j
    return None


@dataclass(frozen=True, slots=True)
class Zone:
    zone_id: str
    polygon: NDArray[np.float64]  # (K, 2) x, y in 0..1, K >= 3

    @classmethod
    def from_points(cls, zone_id: str, points: Sequence[tuple[float, float]]) -> "Zone":
        problem = polygon_problem(points)
        if problem is not None:
            raise ValueError(f"zone {zone_id}: {problem}")
        return cls(zone_id=zone_id, polygon=np.asarray(points, dtype=np.float64).reshape(-1, 2))

    def contains(self, points: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which of N points (N, 2) in 0..1 lie inside the polygon (even-odd rule, vectorised)."""
        x = points[:, 0:1]  # (N, 1) against (1, K) edges
        y = points[:, 1:2]
        xi = self.polygon[:, 0][np.newaxis, :]
        yi = self.polygon[:, 1][np.newaxis, :]
        xj = np.roll(self.polygon[:, 0], -1)[np.newaxis, :]
        yj = np.roll(self.polygon[:, 1], -1)[np.newaxis, :]
        spans = (yi > y) != (yj > y)
        # horizontal edges never span a point's y; a safe divisor keeps numpy from warning
        dy = np.where(yj == yi, 1.0, yj - yi)
        x_cross = xi + (y - yi) * (xj - xi) / dy
        crossings = np.count_nonzero(spans & (x < x_cross), axis=1)
        inside: NDArray[np.bool_] = crossings % 2 == 1
        return inside

    def contains_boxes(
        self, xyxy: NDArray[np.float32], *, width: int, height: int
    ) -> NDArray[np.bool_]:
        """Which of N boxes (N, 4) in pixels of a width x height frame stand in the zone."""
        return self.contains(bottom_centres(xyxy, width=width, height=height))


def bottom_centres(xyxy: NDArray[np.float32], *, width: int, height: int) -> NDArray[np.float64]:
    """The bottom-centre anchor of each box (N, 4 pixels) as (N, 2) fractions of the frame."""
    boxes = xyxy.astype(np.float64).reshape(-1, 4)
    anchors = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2.0 / width, boxes[:, 3] / height], axis=1)
    clipped: NDArray[np.float64] = np.clip(anchors, _BORDER_EPS, 1.0 - _BORDER_EPS)
    return clipped
