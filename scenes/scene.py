"""One labelled canteen-camera picture: generate_scene(seed) composes, photographs and labels it."""

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from scenes.backgrounds import Counter, Layout, View, draw_counter, render_background
from scenes.camera import area_scale, develop, project, random_camera
from scenes.canvas import Canvas
from scenes.cats import draw_cat, random_cat_pose
from scenes.errors import SceneConfigError
from scenes.faces import pick_face_crop
from scenes.food import draw_container, random_container
from scenes.heads import BAD_MASK_WEAR, random_head_look
from scenes.headwear import Facing
from scenes.labels import Label, extract_labels
from scenes.people import draw_person_front, draw_person_top, random_person_look
from scenes.props import draw_dark_dome, draw_prop
from scenes.rodents import draw_rodent, random_rodent
from scenes.sprite import Sprite

Range = tuple[float, float]


@dataclass(frozen=True, slots=True)
class SceneConfig:
    """What a generated scene may contain; counts are inclusive (low, high) ranges."""

    view: View | None = None  # None: wall or ceiling at random
    ceiling_probability: float = 0.3
    night: bool | None = None  # None: infrared night at night_probability
    night_probability: float = 0.3
    people: tuple[int, int] = (0, 5)
    night_people: tuple[int, int] = (0, 2)
    rodents: tuple[int, int] = (0, 2)
    night_rodents: tuple[int, int] = (0, 4)
    cat_probability: float = 0.2
    food: tuple[int, int] = (0, 4)
    props: tuple[int, int] = (0, 5)
    # dark rounded objects, often half hidden behind a container in front or cut by the frame
    # edge (unlabelled; (0, 0) draws nothing and leaves every other draw as it was)
    dark_clutter: tuple[int, int] = (0, 0)
    head_px: Range = (12.0, 60.0)  # head heights in a frame 640 px on its long side
    covered_probability: float = 0.5  # a head has a toque, hair net or cap
    masked_probability: float = 0.5  # a face wears its mask correctly
    # the other faces: no mask, under the nose, on the chin (probabilities, summing to 1)
    bad_mask_wear: tuple[float, float, float] = BAD_MASK_WEAR
    food_covered_probability: float = 0.5
    mask_crops_dir: Path | None = None  # folder with with_mask/ and without_mask/ face crops
    real_face_probability: float = 0.5  # of front-facing faces, when mask_crops_dir is given
    perspective: float = 0.7  # 0: none, 1: frame corners move by the whole margin
    min_box_px: float = 4.0  # smaller boxes are dropped from the labels
    # an object is labelled only when it changes the picture by at least this much: the mean colour
    # distance (0-441) over its pixels between the frame and the same frame without any object, the
    # same camera and noise (Scene.background); 0 labels every object drawn
    min_contrast: float = 0.0
    compress: bool = True  # JPEG round trip with a random quality

    def validate(self) -> None:
        for name in (
            "ceiling_probability",
            "night_probability",
            "cat_probability",
            "covered_probability",
            "masked_probability",
            "food_covered_probability",
            "real_face_probability",
            "perspective",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SceneConfigError(f"SceneConfig.{name} must lie in [0, 1], got {value}")
        for name in (
            "people",
            "night_people",
            "rodents",
            "night_rodents",
            "food",
            "props",
            "dark_clutter",
        ):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise SceneConfigError(
                    f"SceneConfig.{name} must be (low, high), 0 <= low <= high, got {(low, high)}"
                )
        if min(self.bad_mask_wear) < 0.0 or abs(sum(self.bad_mask_wear) - 1.0) > 1e-6:
            raise SceneConfigError(
                "SceneConfig.bad_mask_wear must be 3 probabilities >= 0 summing to 1, got "
                f"{self.bad_mask_wear}"
            )
        if self.min_contrast < 0.0:
            raise SceneConfigError(
                f"SceneConfig.min_contrast must be >= 0, got {self.min_contrast}"
            )
        if not 4.0 <= self.head_px[0] <= self.head_px[1]:
            raise SceneConfigError(
                f"SceneConfig.head_px must be (low, high) with 4 <= low <= high, got {self.head_px}"
            )


@dataclass(frozen=True, slots=True)
class Scene:
    image: NDArray[np.uint8]  # (H, W, 3) BGR
    labels: tuple[Label, ...]
    seed: int
    view: View
    night: bool
    # per pixel: index of the labelled object drawn there, <0 where none
    owner: NDArray[np.int32] = field(repr=False)
    # with_background: the same camera and noise on the empty room
    background: NDArray[np.uint8] | None = field(default=None, repr=False)


@dataclass(slots=True)
class _Item:
    depth: float
    sprite: Sprite
    x: float
    y: float
    shadow: tuple[float, float] | None = None  # ellipse axes of a ground shadow at (x, y)


_MARGIN = 0.06


def parse_size(size: int | tuple[int, int]) -> tuple[int, int]:
    width, height = (size, size) if isinstance(size, int) else size
    if width < 32 or height < 32 or width % 2 or height % 2:
        raise SceneConfigError(
            f"size must be even and at least 32 px each way, got {width}x{height}"
        )
    return width, height


def generate_scene(
    seed: int,
    *,
    size: int | tuple[int, int] = (640, 640),
    config: SceneConfig | None = None,
    with_background: bool = False,
) -> Scene:
    """A labelled picture of a canteen kitchen; the same seed, size and config give the same bytes.

    with_background also renders the empty room through the same camera, with the same noise, into
    Scene.background (for checking that labels sit on drawn objects).
    """
    config = config or SceneConfig()
    config.validate()
    frame_w, frame_h = parse_size(size)
    rng = np.random.default_rng(seed)
    night = bool(rng.random() < config.night_probability) if config.night is None else config.night
    view = config.view or (View.CEILING if rng.random() < config.ceiling_probability else View.WALL)
    # sizes in the config are for a 640 px frame
    px_scale = max(frame_w, frame_h) / 640.0
    head_px = (config.head_px[0] * px_scale, config.head_px[1] * px_scale)
    canvas_w = int(frame_w * (1 + 2 * _MARGIN))
    canvas_h = int(frame_h * (1 + 2 * _MARGIN))
    layout = render_background(rng, view, canvas_w, canvas_h, head_px=head_px)
    items = _populate(rng, layout, config, night=night, head_px=head_px)
    canvas = Canvas(layout.image)
    for item in sorted(items, key=lambda it: it.depth):
        if item.shadow is not None:
            canvas.shadow((item.x, item.y), item.shadow, 0.35 if not night else 0.2)
        canvas.place(item.sprite, item.x, item.y)
    look = random_camera(
        rng,
        night=night,
        canvas_size=(canvas_w, canvas_h),
        frame_size=(frame_w, frame_h),
        perspective=config.perspective,
        compress=config.compress,
    )
    image, owner = project(canvas.image, canvas.owner, look)
    noise = copy.deepcopy(rng)  # this frame's noise, again for the pictures it is compared with
    developed = develop(image, look, rng)
    contrast = None
    if config.min_contrast > 0.0:
        # the same scene without its labelled objects (counters and props stay)
        bare = Canvas(layout.image)
        for item in sorted(items, key=lambda it: it.depth):
            if not item.sprite.roles:
                bare.place(item.sprite, item.x, item.y)
        bare_image, _ = project(bare.image, bare.owner, look)
        behind = develop(bare_image, look, copy.deepcopy(noise)).astype(np.float32)
        contrast = np.linalg.norm(developed.astype(np.float32) - behind, axis=-1)
    labels = extract_labels(
        owner,
        canvas.objects,
        area_scale=lambda p: area_scale(look, p),
        min_box_px=config.min_box_px * px_scale,
        contrast=contrast,
        min_contrast=config.min_contrast,
    )
    background = None
    if with_background:
        empty, _ = project(layout.image.astype(np.float32), canvas.owner, look)
        background = develop(empty, look, copy.deepcopy(noise))
    return Scene(
        image=developed,
        labels=labels,
        seed=seed,
        view=view,
        night=night,
        owner=owner,
        background=background,
    )


def _count(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _populate(
    rng: np.random.Generator, layout: Layout, config: SceneConfig, *, night: bool, head_px: Range
) -> list[_Item]:
    items: list[_Item] = []
    top_view = layout.view is View.CEILING
    if not top_view:
        items.extend(
            _Item(counter.front_y, draw_counter(rng, counter), counter.x0, counter.front_y)
            for counter in layout.counters
        )
    for _ in range(_count(rng, config.night_people if night else config.people)):
        person = _person(rng, layout, config, head_px=head_px)
        if person is not None:
            items.append(person)
    rodents = _count(rng, config.night_rodents if night else config.rodents)
    items.extend(
        _animal(rng, layout, night=night, cat=False, min_px=head_px[0]) for _ in range(rodents)
    )
    if rng.random() < config.cat_probability:
        items.append(_animal(rng, layout, night=night, cat=True, min_px=head_px[0]))
    for _ in range(_count(rng, config.food)):
        container, cover, food = random_container(
            rng, covered_probability=config.food_covered_probability
        )
        x, y, depth, unit = _on_surface(rng, layout)
        squash = _squash(rng, top_view=top_view)
        sprite = draw_container(
            rng,
            container=container,
            cover=cover,
            food=food,
            width_px=max(unit * float(rng.uniform(1.4, 3.2)), 1.5 * head_px[0]),
            squash=squash,
        )
        items.append(_Item(depth, sprite, x, y))
    for _ in range(_count(rng, config.props)):
        x, y, depth, unit = _on_surface(rng, layout)
        squash = _squash(rng, top_view=top_view)
        items.append(_Item(depth, draw_prop(rng, unit_px=unit, squash=squash), x, y))
    if config.dark_clutter[1] > 0:
        for _ in range(_count(rng, config.dark_clutter)):
            items.extend(_dark_clutter(rng, layout, config))
    return items


def _squash(rng: np.random.Generator, *, top_view: bool) -> float:
    """How flat a thing on a surface looks: nearly round from the ceiling, foreshortened from a
    wall camera (the draw_container / draw_prop squash)."""
    return float(rng.uniform(0.8, 1.0) if top_view else rng.uniform(0.35, 0.75))


def _dark_clutter(rng: np.random.Generator, layout: Layout, config: SceneConfig) -> list[_Item]:
    """A dark dome, half the time cut by the frame's left or right edge, and most often with a
    container or a prop in front hiding its lower part: only its dark top shows, as a hump."""
    top_view = layout.view is View.CEILING
    width = layout.image.shape[1]
    x, y, depth, unit = _on_surface(rng, layout, floor_bias=0.3)
    squash = _squash(rng, top_view=top_view)
    dome = draw_dark_dome(rng, unit_px=unit, squash=squash)
    if rng.random() < 0.5:  # the frame's edge lies _MARGIN of the frame inside the canvas
        edge = width * _MARGIN / (1 + 2 * _MARGIN)
        x = edge if rng.random() < 0.5 else width - edge
        x += dome.width * float(rng.uniform(-0.35, 0.35))
    items = [_Item(depth, dome, x, y)]
    if rng.random() < 0.7:
        front_y = y + unit * float(rng.uniform(0.05, 0.3))
        front_x = x + dome.width * float(rng.uniform(-0.3, 0.3))
        if rng.random() < 0.5:
            container, cover, food = random_container(
                rng, covered_probability=config.food_covered_probability
            )
            sprite = draw_container(
                rng,
                container=container,
                cover=cover,
                food=food,
                width_px=dome.width * float(rng.uniform(0.9, 1.6)),
                squash=squash,
            )
        else:
            sprite = draw_prop(rng, unit_px=unit, squash=squash)
        items.append(_Item(depth + 1e-4, sprite, front_x, front_y))
    return items


def _person(
    rng: np.random.Generator, layout: Layout, config: SceneConfig, *, head_px: Range
) -> _Item | None:
    height, width = layout.image.shape[:2]
    for _ in range(20):
        if layout.view is View.CEILING:
            y = float(rng.uniform(0, height))
        else:
            y = float(rng.uniform(layout.floor_top_y + 4, height * 1.25))
        size = layout.head_px_at(y)
        if head_px[0] <= size <= head_px[1]:
            break
    else:
        return None
    x = float(rng.uniform(-0.05 * width, 1.05 * width))
    real = None
    if (
        config.mask_crops_dir is not None
        and layout.view is View.WALL
        and rng.random() < config.real_face_probability
    ):
        real = pick_face_crop(
            rng, config.mask_crops_dir, masked=bool(rng.random() < config.masked_probability)
        )
    head = random_head_look(
        rng,
        covered_probability=config.covered_probability,
        masked_probability=config.masked_probability,
        real_face=real,
        bad_mask_wear=config.bad_mask_wear,
    )
    look = random_person_look(rng, head)
    if layout.view is View.CEILING:
        sprite = draw_person_top(look, size, rng).rotated(float(rng.uniform(0, 360)))
        return _Item(1e6 + y, sprite, x, y)
    sprite = draw_person_front(look, size, rng)
    squash = float(rng.uniform(0.82, 1.0))
    sprite = sprite.scaled(1.0, squash)
    if head.facing is not Facing.FRONT and rng.random() < 0.5:
        sprite = sprite.flipped()
    return _Item(y, sprite, x, y, shadow=(size * 1.2, size * 0.3))


def _animal(
    rng: np.random.Generator, layout: Layout, *, night: bool, cat: bool, min_px: float
) -> _Item:
    """A rodent or a cat; min_px (the smallest head height) keeps far-away animals learnable."""
    top_view = layout.view is View.CEILING
    x, y, depth, unit = _on_surface(rng, layout, floor_bias=0.8)
    if cat:
        sprite = draw_cat(
            rng,
            pose=random_cat_pose(rng, top_view=top_view),
            length_px=max(unit * float(rng.uniform(1.8, 2.6)), 2.0 * min_px),
            night=night,
        )
    else:
        kind, pose = random_rodent(rng, top_view=top_view)
        length = unit * float(
            rng.uniform(0.75, 1.4) if kind.value == "rat" else rng.uniform(0.4, 0.75)
        )
        length = max(length, (0.9 if kind.value == "rat" else 0.7) * min_px)
        sprite = draw_rodent(rng, kind=kind, pose=pose, length_px=length, night=night)
    if rng.random() < 0.5:
        sprite = sprite.flipped()
    if top_view:
        sprite = sprite.rotated(float(rng.uniform(0, 360)))
    elif rng.random() < 0.3:
        sprite = sprite.rotated(float(rng.uniform(-15, 15)))
    shadow = None if top_view else (sprite.width * 0.35, max(sprite.height * 0.08, 1.0))
    return _Item(depth, sprite, x, y, shadow=shadow)


def _on_surface(
    rng: np.random.Generator, layout: Layout, *, floor_bias: float = 0.0
) -> tuple[float, float, float, float]:
    """A place to stand: (x, y, drawing depth, head height there). Counters are preferred unless
    floor_bias says otherwise; the wall's foot counts as floor."""
    height, width = layout.image.shape[:2]
    counters = layout.counters
    if counters and rng.random() >= floor_bias:
        counter: Counter = counters[int(rng.integers(len(counters)))]
        x = float(rng.uniform(counter.x0, counter.x1))
        y = float(rng.uniform(counter.top_back_y, counter.top_front_y))
        if layout.view is View.CEILING:
            return x, y, 1e5 + y, layout.head_px_at(y)
        return (
            x,
            y,
            counter.front_y + 0.5 + (y - counter.top_back_y) * 1e-3,
            layout.head_px_at(counter.front_y),
        )
    if layout.view is View.CEILING:
        y = float(rng.uniform(0, height))
        return float(rng.uniform(0, width)), y, y, layout.head_px_at(y)
    along_wall = rng.random() < 0.3
    y = layout.floor_top_y + (
        float(rng.uniform(1, 6))
        if along_wall
        else float(rng.uniform(4, height - layout.floor_top_y))
    )
    return float(rng.uniform(0, width)), y, y, layout.head_px_at(y)
