"""The scene generator: deterministic by seed, labels inside the image and on drawn objects."""

import dataclasses

import numpy as np
import pytest

from scenes.backgrounds import View
from scenes.classes import CLASS_NAMES
from scenes.errors import SceneConfigError
from scenes.heads import BAD_MASK_WEAR, random_head_look
from scenes.headwear import MaskWear
from scenes.props import draw_dark_dome
from scenes.scene import SceneConfig, generate_scene

SIZE = (256, 192)
BUSY = SceneConfig(
    people=(3, 4),
    rodents=(1, 2),
    night_rodents=(1, 2),
    night_people=(2, 3),
    food=(2, 3),
    cat_probability=0.5,
)


def test_same_seed_gives_the_same_image_and_labels() -> None:
    first = generate_scene(11, size=SIZE, config=BUSY)
    second = generate_scene(11, size=SIZE, config=BUSY)
    assert first.image.tobytes() == second.image.tobytes()
    assert first.labels == second.labels
    assert first.labels  # a busy scene has something in it


def test_different_seeds_give_different_scenes() -> None:
    first = generate_scene(1, size=SIZE, config=BUSY)
    second = generate_scene(2, size=SIZE, config=BUSY)
    assert first.image.tobytes() != second.image.tobytes()
    assert first.labels != second.labels


def test_image_has_the_requested_size_and_type() -> None:
    scene = generate_scene(3, size=SIZE)
    assert scene.image.shape == (SIZE[1], SIZE[0], 3)
    assert scene.image.dtype == np.uint8


@pytest.mark.parametrize("seed", range(6))
def test_labels_lie_inside_the_image_and_on_drawn_objects(seed: int) -> None:
    config = SceneConfig(
        people=(2, 3),
        night_people=(2, 3),
        rodents=(1, 2),
        night_rodents=(1, 2),
        food=(1, 3),
        compress=False,
        view=View.CEILING if seed % 3 == 2 else View.WALL,
    )
    scene = generate_scene(seed, size=SIZE, config=config, with_background=True)
    assert scene.background is not None
    diff = np.abs(scene.image.astype(np.int16) - scene.background.astype(np.int16)).max(axis=2) > 2
    assert scene.labels
    for label in scene.labels:
        x1, y1, x2, y2 = (int(v) for v in label.xyxy)
        assert 0 <= x1 < x2 <= SIZE[0], label
        assert 0 <= y1 < y2 <= SIZE[1], label
        inside = diff[y1:y2, x1:x2]
        # the object changed the picture in its box (white on white in infrared changes little) ...
        assert inside.mean() > 0.15, label
        # ... and the box is tight: each of its four edges runs over a drawn object pixel
        owned = scene.owner[y1:y2, x1:x2] >= 0
        for edge in (owned[0, :], owned[-1, :], owned[:, 0], owned[:, -1]):
            assert edge.any(), label


def test_every_class_appears_over_a_few_scenes() -> None:
    seen: set[str] = set()
    config = SceneConfig(
        people=(2, 4), rodents=(1, 2), food=(2, 3), cat_probability=0.7, view=View.WALL
    )
    for seed in range(12):
        seen |= {
            label.class_name
            for label in generate_scene(seed, size=(320, 320), config=config).labels
        }
    assert seen == set(CLASS_NAMES)


def test_forced_attributes_give_only_the_violating_classes() -> None:
    config = SceneConfig(
        view=View.WALL,
        night=False,
        people=(3, 3),
        covered_probability=0.0,
        masked_probability=1.0,
        food=(2, 2),
        food_covered_probability=0.0,
        rodents=(0, 0),
        cat_probability=0.0,
    )
    names = set()
    for seed in range(4):
        names |= {
            label.class_name
            for label in generate_scene(seed, size=(320, 320), config=config).labels
        }
    assert "head_covered" not in names
    assert "face_bare" not in names
    assert "food_covered" not in names
    assert {"head_bare", "face_masked", "food_uncovered"} <= names


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (SceneConfig(night_probability=1.5), "night_probability"),
        (SceneConfig(people=(3, 1)), "people"),
        (SceneConfig(head_px=(2.0, 10.0)), "head_px"),
        (SceneConfig(min_contrast=-1.0), "min_contrast"),
        (SceneConfig(bad_mask_wear=(0.5, 0.5, 0.5)), "bad_mask_wear"),
        (SceneConfig(dark_clutter=(2, 1)), "dark_clutter"),
    ],
)
def test_bad_config_names_the_field(config: SceneConfig, field: str) -> None:
    with pytest.raises(SceneConfigError, match=field):
        generate_scene(0, size=SIZE, config=config)


def test_bad_size_is_rejected() -> None:
    with pytest.raises(SceneConfigError, match="size"):
        generate_scene(0, size=(101, 64))


def test_a_contrast_floor_drops_labels_and_never_changes_the_picture() -> None:
    seeds = range(20, 26)
    plain = [generate_scene(seed, size=SIZE) for seed in seeds]
    floored = [
        generate_scene(seed, size=SIZE, config=SceneConfig(min_contrast=20.0)) for seed in seeds
    ]
    blind = [
        generate_scene(seed, size=SIZE, config=SceneConfig(min_contrast=500.0)) for seed in seeds
    ]
    for a, b, c in zip(plain, floored, blind, strict=True):
        assert np.array_equal(a.image, b.image)
        assert np.array_equal(a.image, c.image)
        assert set(b.labels) <= set(a.labels)
        assert c.labels == ()  # no colour is 500 away from another (at most 441)
    assert sum(len(scene.labels) for scene in floored) > 0


def test_bad_mask_wear_picks_how_an_unmasked_face_wears_its_mask() -> None:
    def wear(bad_mask_wear: tuple[float, float, float]) -> set[MaskWear]:
        rng = np.random.default_rng(3)
        return {
            random_head_look(
                rng, covered_probability=0.5, masked_probability=0.0, bad_mask_wear=bad_mask_wear
            ).mask
            for _ in range(40)
        }

    assert wear((0.0, 1.0, 0.0)) == {MaskWear.UNDER_NOSE}
    assert wear((0.0, 0.0, 1.0)) == {MaskWear.CHIN}
    assert wear(BAD_MASK_WEAR) == {MaskWear.NONE, MaskWear.UNDER_NOSE, MaskWear.CHIN}


EMPTY_DAY = SceneConfig(
    night=False,
    people=(0, 0),
    rodents=(0, 0),
    cat_probability=0.0,
    food=(0, 0),
    props=(0, 0),
)


def test_dark_clutter_darkens_the_picture_and_is_never_labelled_an_animal() -> None:
    animals = {CLASS_NAMES.index("rodent"), CLASS_NAMES.index("cat")}
    darkened = {"without": 0, "with": 0}
    for seed in range(8):
        for name, clutter in (("without", (0, 0)), ("with", (3, 3))):
            config = dataclasses.replace(EMPTY_DAY, dark_clutter=clutter)
            scene = generate_scene(seed, size=SIZE, config=config, with_background=True)
            # only a food container in front of a dark shape may carry a label
            assert not {label.class_id for label in scene.labels} & animals
            assert all(label.class_name.startswith("food_") for label in scene.labels)
            assert scene.background is not None
            # pixels much darker than the empty room seen through the same camera
            drop = scene.background.astype(int).sum(-1) - scene.image.astype(int).sum(-1)
            darkened[name] += int((drop > 120).sum())
    # (the counters of a wall view are not in the empty room either)
    assert darkened["with"] > 2 * darkened["without"] + 500, darkened


def test_a_dark_dome_is_dark_and_carries_no_label() -> None:
    rng = np.random.default_rng(3)
    for _ in range(10):
        sprite = draw_dark_dome(rng, unit_px=30.0, squash=0.5)
        assert sprite.roles == ()
        drawn = sprite.alpha > 0.5
        assert drawn.any()
        assert float(np.median(sprite.image[drawn].max(axis=-1))) < 90
