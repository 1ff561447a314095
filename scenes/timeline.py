"""Scenario scripts: actors on keyframed tracks, the default timelines, and ground-truth events."""

from dataclasses import dataclass

from scenes.classes import KitchenClass
from scenes.food import Container, Cover, Food
from scenes.headwear import Covering, MaskWear

VIOLATION_OF_CLASS: dict[str, str] = {
    KitchenClass.HEAD_BARE.value: "no_hat",
    KitchenClass.FACE_BARE.value: "no_mask",
    KitchenClass.RODENT.value: "rodent",
    KitchenClass.FOOD_UNCOVERED.value: "uncovered_food",
}
VIOLATION_KINDS: tuple[str, ...] = ("no_hat", "no_mask", "rodent", "uncovered_food")
Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class ScenarioEvent:
    """One violation in a scenario's ground truth (or one detected by a system under test)."""

    kind: str  # no_hat, no_mask, rodent, uncovered_food
    camera: str
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class Track:
    """Keyframes (t_s, x, y) in 0..1 of the frame; eased between keyframes, absent outside them."""

    keys: tuple[tuple[float, float, float], ...]

    def at(self, t_s: float) -> tuple[float, float] | None:
        if not self.keys or t_s < self.keys[0][0] or t_s > self.keys[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in zip(self.keys, self.keys[1:], strict=False):
            if t0 <= t_s <= t1:
                f = (t_s - t0) / max(t1 - t0, 1e-9)
                f = f * f * (3 - 2 * f)  # smoothstep: start and stop without a jolt
                return x0 + (x1 - x0) * f, y0 + (y1 - y0) * f
        return self.keys[-1][1], self.keys[-1][2]


def inside(t_s: float, intervals: tuple[Interval, ...]) -> bool:
    return any(start <= t_s < end for start, end in intervals)


@dataclass(frozen=True, slots=True)
class Worker:
    track: Track
    covering: Covering = Covering.TOQUE
    hat_off_s: tuple[Interval, ...] = ()  # the covering is off (held in the hand) during these
    mask: MaskWear = MaskWear.CORRECT
    mask_off_s: tuple[Interval, ...] = ()  # the mask is pulled under the nose during these
    look_seed: int = 0


@dataclass(frozen=True, slots=True)
class Animal:
    track: Track
    kind: str = "rat"  # rat, mouse or cat
    length_px: float = 40.0


@dataclass(frozen=True, slots=True)
class Dish:
    x: float  # 0..1 of the frame, on the scenario's counter
    uncovered_s: tuple[Interval, ...] = ()
    cover: Cover = Cover.LID
    container: Container = Container.TRAY
    food: Food = Food.STEW
    width_units: float = 2.5  # in head heights at the counter


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    duration_s: float
    seed: int
    camera: str = "cam-1"
    night: bool = False
    workers: tuple[Worker, ...] = ()
    animals: tuple[Animal, ...] = ()
    dishes: tuple[Dish, ...] = ()
    counter_y: float = 0.8  # 0..1 of the frame: where the counter's front meets the floor
    props: int = 2
    head_px: float = 30.0  # head height of a worker behind the counter, in a 640 px wide frame


def default_scenarios(seed: int = 0, *, camera: str = "cam-1") -> tuple[Scenario, ...]:
    """The scripted timelines of the issue: hat off for 8 s, mask under the nose, a rat crossing at
    night, a tray uncovered for 2 minutes, a quiet minute, and a cat (a hard negative) at night."""
    behind = 0.74  # a worker standing just behind the counter (counter_y - 0.06)
    return (
        Scenario(
            "hat_off",
            40.0,
            seed,
            camera,
            workers=(
                Worker(
                    Track(((0.0, 0.3, behind), (40.0, 0.45, behind))),
                    hat_off_s=((12.0, 20.0),),
                    look_seed=seed + 1,
                ),
            ),
            dishes=(Dish(0.7),),
        ),
        Scenario(
            "mask_under_nose",
            40.0,
            seed + 1,
            camera,
            workers=(
                Worker(
                    Track(((0.0, 0.6, behind), (40.0, 0.4, behind))),
                    covering=Covering.HAIRNET,
                    mask_off_s=((15.0, 27.0),),
                    look_seed=seed + 2,
                ),
            ),
            dishes=(Dish(0.25, container=Container.BASIN, food=Food.RICE),),
        ),
        Scenario(
            "rat_night",
            30.0,
            seed + 2,
            camera,
            night=True,
            animals=(Animal(Track(((10.0, -0.1, 0.92), (16.0, 1.1, 0.9))), "rat", 45.0),),
            dishes=(Dish(0.5),),
        ),
        Scenario(
            "uncovered_tray",
            150.0,
            seed + 3,
            camera,
            workers=(
                Worker(
                    Track(((0.0, 0.2, behind), (150.0, 0.3, behind))),
                    covering=Covering.CAP,
                    look_seed=seed + 3,
                ),
            ),
            dishes=(Dish(0.6, uncovered_s=((15.0, 135.0),), cover=Cover.FILM, food=Food.GREENS),),
        ),
        Scenario(
            "quiet",
            60.0,
            seed + 4,
            camera,
            workers=(
                Worker(
                    Track(((0.0, 0.15, behind), (30.0, 0.85, behind), (60.0, 0.3, behind))),
                    look_seed=seed + 4,
                ),
                Worker(
                    Track(((0.0, 0.8, 0.62), (60.0, 0.6, 0.62))),
                    covering=Covering.HAIRNET,
                    look_seed=seed + 5,
                ),
            ),
            dishes=(Dish(0.35), Dish(0.6, cover=Cover.FILM, container=Container.BOWL)),
        ),
        Scenario(
            "cat_night",
            40.0,
            seed + 5,
            camera,
            night=True,
            animals=(Animal(Track(((8.0, 1.15, 0.93), (22.0, -0.15, 0.95))), "cat", 90.0),),
            dishes=(Dish(0.5),),
        ),
    )
