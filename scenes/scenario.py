"""Scenario videos: scripted kitchen timelines rendered to H.264 MP4 with a ground-truth event list.

A scenario is a static camera (one background, fixed for the whole video) and actors that move along
keyframed tracks: workers whose hat or mask comes off for a while, rodents crossing, a cat, food
whose cover is taken off. The ground truth is measured on the rendered frames, not copied from the
script: a violation is active in a frame when that frame's labels hold its class (head_bare ->
no_hat, face_bare -> no_mask, rodent -> rodent, food_uncovered -> uncovered_food); active frames
less than `merge_gap_s` apart form one event [start_s, end_s).
"""

import dataclasses
import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from scenes.backgrounds import View, counter_at, draw_counter, render_background
from scenes.camera import area_scale, develop, project, random_camera
from scenes.canvas import Canvas
from scenes.cats import CatPose, draw_cat
from scenes.errors import ScenarioError
from scenes.food import Cover, draw_container
from scenes.heads import random_head_look
from scenes.headwear import Covering, Facing, MaskWear
from scenes.labels import Label, extract_labels
from scenes.people import ArmPose, PersonLook, draw_person_front, random_person_look
from scenes.props import draw_prop
from scenes.rodents import RodentKind, RodentPose, draw_rodent
from scenes.sprite import Sprite
from scenes.timeline import (
    VIOLATION_KINDS,
    VIOLATION_OF_CLASS,
    Animal,
    Dish,
    Scenario,
    ScenarioEvent,
    Worker,
    inside,
)


class ScenarioRenderer:
    """Renders a scenario frame by frame: image and labels at any time t_s."""

    def __init__(self, scenario: Scenario, *, size: tuple[int, int] = (640, 360)) -> None:
        width, height = size
        if width < 64 or height < 64 or width % 2 or height % 2:
            raise ScenarioError(
                f"size must be even and at least 64 px each way, got {width}x{height}"
            )
        if scenario.duration_s <= 0:
            raise ScenarioError(f"scenario {scenario.name}: duration_s must be positive")
        self.scenario = scenario
        self.size = size
        rng = np.random.default_rng(scenario.seed)
        self._canvas_size = (int(width * 1.08), int(height * 1.08))
        cw, ch = self._canvas_size
        scale = max(width, height) / 640.0
        layout = render_background(rng, View.WALL, cw, ch, head_px=(20.0 * scale, 46.0 * scale))
        # heads about head_px high where the workers stand, just behind the counter
        worker_y = ch * (scenario.counter_y - 0.06)
        head_near = scenario.head_px * scale * (ch - layout.vanish_y) / (worker_y - layout.vanish_y)
        layout = dataclasses.replace(layout, head_near_px=head_near)
        counter = counter_at(layout, x0=cw * 0.05, x1=cw * 0.95, front_y=ch * scenario.counter_y)
        self._layout = layout = dataclasses.replace(layout, counters=(counter,))
        self._look = random_camera(
            rng,
            night=scenario.night,
            canvas_size=self._canvas_size,
            frame_size=size,
            perspective=0.3,
            compress=False,
        )
        self._static: list[tuple[float, Sprite, float, float]] = [
            (counter.front_y, draw_counter(rng, counter), counter.x0, counter.front_y)
        ]
        for _ in range(scenario.props):
            # clutter at the counter's ends, clear of the dishes
            x = float(rng.choice([rng.uniform(0.06, 0.14), rng.uniform(0.86, 0.94)])) * cw
            y = float(rng.uniform(counter.top_back_y, counter.top_front_y))
            unit = layout.head_px_at(counter.front_y)
            self._static.append(
                (counter.front_y + 0.5, draw_prop(rng, unit_px=unit, squash=0.5), x, y)
            )
        self._cache: dict[tuple[object, ...], Sprite] = {}
        self._frame_rng = np.random.default_rng(scenario.seed + 7919)

    def _xy(self, fx: float, fy: float) -> tuple[float, float]:
        cw, ch = self._canvas_size
        mx, my = (cw - self.size[0]) / 2.0, (ch - self.size[1]) / 2.0
        return mx + fx * self.size[0], my + fy * self.size[1]

    def _worker_sprite(self, worker: Worker, t_s: float, y: float) -> Sprite:
        hat_off = inside(t_s, worker.hat_off_s)
        mask_off = inside(t_s, worker.mask_off_s)
        # the hands go up to the head for a second around each change of hat
        reaching = any(abs(t_s - edge) < 0.6 for interval in worker.hat_off_s for edge in interval)
        head_px = round(self._layout.head_px_at(y))
        key = ("worker", worker.look_seed, hat_off, mask_off, reaching, head_px)
        if key not in self._cache:
            rng = np.random.default_rng(worker.look_seed)
            base = random_head_look(rng, covered_probability=1.0, masked_probability=1.0)
            mask = MaskWear.UNDER_NOSE if mask_off else worker.mask
            head = dataclasses.replace(
                base,
                covering=Covering.NONE if hat_off else worker.covering,
                mask=mask,
                facing=Facing.FRONT,
                toque_height=0.8,
            )
            look: PersonLook = random_person_look(rng, head)
            look = dataclasses.replace(
                look, arms=ArmPose.RAISED if reaching else ArmPose.WORKING, stride=0.0
            )
            self._cache[key] = draw_person_front(
                look, float(head_px), np.random.default_rng(worker.look_seed)
            )
        return self._cache[key]

    def _animal_sprite(self, animal: Animal, t_s: float, moving_left: bool) -> Sprite:
        phase = round((t_s * 3.0) % 1.0 * 4) % 4
        key = ("animal", animal.kind, animal.length_px, phase, moving_left)
        if key not in self._cache:
            rng = np.random.default_rng(self.scenario.seed + 17)
            if animal.kind == "cat":
                sprite = draw_cat(
                    rng, pose=CatPose.WALK, length_px=animal.length_px, night=self.scenario.night
                )
            else:
                kind = RodentKind.MOUSE if animal.kind == "mouse" else RodentKind.RAT
                sprite = draw_rodent(
                    rng,
                    kind=kind,
                    pose=RodentPose.RUN,
                    length_px=animal.length_px,
                    night=self.scenario.night,
                    tail_phase=phase / 4,
                )
            self._cache[key] = sprite.flipped() if moving_left else sprite
        return self._cache[key]

    def _dish_sprite(self, dish: Dish, index: int, t_s: float) -> Sprite:
        open_now = inside(t_s, dish.uncovered_s) or dish.cover is Cover.NONE
        key = ("dish", index, open_now)
        if key not in self._cache:
            unit = self._layout.head_px_at(self._layout.counters[0].front_y)
            rng = np.random.default_rng(
                self.scenario.seed * 31 + index
            )  # same food with and without cover
            self._cache[key] = draw_container(
                rng,
                container=dish.container,
                cover=Cover.NONE if open_now else dish.cover,
                food=dish.food,
                width_px=unit * dish.width_units,
                squash=0.5,
            )
        return self._cache[key]

    def render(self, t_s: float) -> tuple[NDArray[np.uint8], tuple[Label, ...]]:
        """The frame presented at t_s and its labels."""
        items = list(self._static)
        counter = self._layout.counters[0]
        for worker in self.scenario.workers:
            pos = worker.track.at(t_s)
            if pos is not None:
                x, y = self._xy(*pos)
                items.append((y, self._worker_sprite(worker, t_s, y), x, y))
        for animal in self.scenario.animals:
            pos = animal.track.at(t_s)
            if pos is not None:
                x, y = self._xy(*pos)
                later = animal.track.at(min(t_s + 0.1, animal.track.keys[-1][0]))
                moving_left = later is not None and later[0] < pos[0]
                items.append((y, self._animal_sprite(animal, t_s, moving_left), x, y))
        for index, dish in enumerate(self.scenario.dishes):
            x, _ = self._xy(dish.x, 0.0)
            y = (counter.top_front_y + counter.top_back_y) / 2 + 2.0
            items.append(
                (counter.front_y + 1.0 + index * 1e-3, self._dish_sprite(dish, index, t_s), x, y)
            )
        canvas = Canvas(self._layout.image)
        for _, sprite, x, y in sorted(items, key=lambda item: item[0]):
            canvas.place(sprite, x, y)
        image, owner = project(canvas.image, canvas.owner, self._look)
        labels = extract_labels(
            owner, canvas.objects, area_scale=lambda p: area_scale(self._look, p), min_box_px=4.0
        )
        return develop(image, self._look, self._frame_rng), labels


def frames(
    scenario: Scenario, *, size: tuple[int, int] = (640, 360), fps: int = 10
) -> Iterator[tuple[float, NDArray[np.uint8], tuple[Label, ...]]]:
    """(t_s, image, labels) for every frame of the scenario."""
    renderer = ScenarioRenderer(scenario, size=size)
    for index in range(round(scenario.duration_s * fps)):
        t_s = index / fps
        image, labels = renderer.render(t_s)
        yield t_s, image, labels


def events_from_frames(
    active: list[tuple[float, set[str]]], *, camera: str, frame_s: float, merge_gap_s: float = 1.0
) -> tuple[ScenarioEvent, ...]:
    """Merge per-frame active violation kinds into events; a frame covers [t_s, t_s + frame_s)."""
    events: list[ScenarioEvent] = []
    for kind in VIOLATION_KINDS:
        start: float | None = None
        last = 0.0
        for t_s, kinds in active:
            if kind not in kinds:
                continue
            if start is None:
                start = t_s
            elif t_s - (last + frame_s) > merge_gap_s:
                events.append(
                    ScenarioEvent(kind, camera, round(start, 3), round(last + frame_s, 3))
                )
                start = t_s
            last = t_s
        if start is not None:
            events.append(ScenarioEvent(kind, camera, round(start, 3), round(last + frame_s, 3)))
    return tuple(sorted(events, key=lambda e: (e.start_s, e.kind)))


def render_scenario(
    scenario: Scenario, out_dir: Path, *, size: tuple[int, int] = (640, 360), fps: int = 10
) -> tuple[Path, Path]:
    """Write out_dir/<name>.mp4 (H.264, yuv420p, +faststart) and out_dir/<name>.json (truth)."""
    if fps <= 0:
        raise ScenarioError(f"fps must be positive, got {fps}")
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / f"{scenario.name}.mp4"
    truth = out_dir / f"{scenario.name}.json"
    active: list[tuple[float, set[str]]] = []
    with av.open(str(video), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = fps
        stream.codec_context.max_b_frames = 0
        stream.options = {
            "preset": "veryfast",
            "crf": "23",
            # one slice per picture: an RTSP client (FFmpeg) served two slices decodes each as a
            # picture of its own, and the top half of every frame comes out green
            "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0:sliced-threads=0",
        }
        for index, (t_s, image, labels) in enumerate(frames(scenario, size=size, fps=fps)):
            active.append(
                (
                    t_s,
                    {
                        VIOLATION_OF_CLASS[label.class_name]
                        for label in labels
                        if label.class_name in VIOLATION_OF_CLASS
                    },
                )
            )
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    events = events_from_frames(active, camera=scenario.camera, frame_s=1.0 / fps)
    document = {
        "scenario": scenario.name,
        "camera": scenario.camera,
        "duration_s": scenario.duration_s,
        "fps": fps,
        "size": list(size),
        "night": scenario.night,
        "events": [dataclasses.asdict(event) for event in events],
    }
    truth.write_text(json.dumps(document, indent=2) + "\n")
    return video, truth


def read_events(path: Path) -> tuple[ScenarioEvent, ...]:
    """The events of a ground-truth JSON written by render_scenario."""
    try:
        document = json.loads(path.read_text())
        return tuple(
            ScenarioEvent(str(e["kind"]), str(e["camera"]), float(e["start_s"]), float(e["end_s"]))
            for e in document["events"]
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ScenarioError(f"{path}: not a scenario ground truth ({err})") from err
