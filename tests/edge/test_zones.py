"""Zones: point-in-polygon for many points at once, anchored at each box's bottom-centre."""

import numpy as np
import pytest

from edge.zones import Zone, bottom_centres, polygon_problem

SQUARE = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]
# an L shape: the square's top-right quarter is cut out
L_SHAPE = [(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)]


def test_contains_many_points_at_once() -> None:
    zone = Zone.from_points("square", SQUARE)
    points = np.array([[0.5, 0.5], [0.1, 0.5], [0.5, 0.9], [0.74, 0.26], [0.76, 0.5]])

    assert zone.contains(points).tolist() == [True, False, False, True, False]


def test_concave_polygon() -> None:
    zone = Zone.from_points("l", L_SHAPE)
    points = np.array([[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]])

    assert zone.contains(points).tolist() == [True, False, True, True]


def test_no_points_gives_an_empty_mask() -> None:
    zone = Zone.from_points("square", SQUARE)

    assert zone.contains(np.zeros((0, 2))).shape == (0,)


def test_a_box_is_in_the_zone_by_its_bottom_centre() -> None:
    zone = Zone.from_points("floor", [(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)])
    # 100x100 frame: a box above the zone whose feet reach into it, and one entirely above it
    xyxy = np.array([[10, 10, 30, 60], [10, 10, 30, 40]], dtype=np.float32)

    assert zone.contains_boxes(xyxy, width=100, height=100).tolist() == [True, False]


def test_a_box_on_the_frame_border_is_inside_a_zone_reaching_the_border() -> None:
    zone = Zone.from_points("whole", [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
    xyxy = np.array([[0, 50, 100, 100]], dtype=np.float32)

    assert zone.contains_boxes(xyxy, width=100, height=100).tolist() == [True]


def test_bottom_centres_are_fractions_of_the_frame() -> None:
    xyxy = np.array([[100, 0, 300, 240]], dtype=np.float32)

    assert bottom_centres(xyxy, width=400, height=480).tolist() == [[0.5, 0.5]]


@pytest.mark.parametrize(
    ("points", "problem"),
    [
        ([(0.0, 0.0), (1.0, 1.0)], "a polygon needs at least 3 points, got 2"),
        ([(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)], "the polygon has no area"),
        ([(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)], "the polygon crosses itself"),
        ([(0.0, 0.0), (1.2, 0.0), (1.0, 1.0)], "point 1 is outside 0..1"),
    ],
)
def test_invalid_polygons_are_explained(points: list[tuple[float, float]], problem: str) -> None:
    found = polygon_problem(points)

    assert found is not None
    assert found.startswith(problem)
    with pytest.raises(ValueError, match="zone z: "):
        Zone.from_points("z", points)


def test_valid_polygons_have_no_problem() -> None:
    assert polygon_problem(SQUARE) is None
    assert polygon_problem(L_SHAPE) is None
