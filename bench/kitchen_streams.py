"""Camera streams for the edge benchmarks: quiet kitchens with occasional activity, and the model.

Each video is a still kitchen (scenes' renderer, one second of frames with fresh sensor noise,
looped) in which, once per loop, a worker walks in, stands at the counter for a few seconds and
walks out. Videos are H.264 640x360 at 10 fps with a keyframe every second, no B-frames and one
slice per picture, as the RTSP server wants them; they are cached under var/bench/.
"""

import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from contracts import EdgeStatus, ViolationEnd, ViolationEvent

REPO = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO / "var" / "bench"
KITCHEN_MODEL = REPO / "models" / "kitchen" / "model.onnx"
MARKER_MODEL = REPO / "models" / "marker" / "model.onnx"
FPS = 10
SIZE = (640, 360)
ACTIVITY_S = 8.0


def default_model() -> tuple[Path, str]:
    """The kitchen model when it exists, else the marker model; and which one it is."""
    if KITCHEN_MODEL.is_file():
        return KITCHEN_MODEL, "kitchen model (models/kitchen/model.onnx)"
    return MARKER_MODEL, "marker model (models/marker/model.onnx; the kitchen model is absent)"


def quiet_kitchen_video(
    directory: Path, *, seed: int, duration_s: float = 40.0, activity_at_s: float = 10.0
) -> Path:
    """A looped quiet kitchen with one worker passing through at activity_at_s (cached)."""
    path = directory / f"quiet-kitchen-{seed}-{duration_s:g}s-at{activity_at_s:g}s.mp4"
    if path.is_file():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = FPS
        stream.codec_context.max_b_frames = 0
        stream.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "crf": "23",
            "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:bframes=0:sliced-threads=0",
        }
        for index, image in enumerate(_frames(seed, duration_s, activity_at_s)):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.replace(path)
    return path


def _frames(seed: int, duration_s: float, activity_at_s: float) -> Iterator[NDArray[np.uint8]]:
    from scenes.scenario import ScenarioRenderer
    from scenes.timeline import Dish, Scenario, Track, Worker

    start, behind = activity_at_s, 0.74
    walk = Track(
        (
            (start, -0.1, behind),
            (start + 2.5, 0.4, behind),
            (start + 5.5, 0.45, behind),
            (start + ACTIVITY_S, 1.1, behind),
        )
    )
    scenario = Scenario(
        f"quiet-{seed}",
        duration_s,
        seed,
        workers=(Worker(walk, look_seed=seed + 1),),
        dishes=(Dish(0.3), Dish(0.7)),
    )
    renderer = ScenarioRenderer(scenario, size=SIZE)
    quiet = [renderer.render(index / FPS)[0] for index in range(FPS)]  # before the worker comes
    for index in range(round(duration_s * FPS)):
        t_s = index / FPS
        if start <= t_s < start + ACTIVITY_S:
            yield renderer.render(t_s)[0]
        else:
            yield quiet[index % FPS]


def kitchen_videos(count: int, *, duration_s: float = 40.0) -> list[Path]:
    """`count` different quiet kitchens, their activity at different times of the loop."""
    step_s = (duration_s - ACTIVITY_S) / count
    return [
        quiet_kitchen_video(
            CACHE_DIR, seed=seed, duration_s=duration_s, activity_at_s=round(1.0 + seed * step_s, 1)
        )
        for seed in range(count)
    ]


class NullPublisher:
    """Counts what the worker publishes and sends nothing: the capacity bench measures the edge."""

    def __init__(self) -> None:
        self.violations = 0
        self.ends = 0
        self.statuses = 0

    def publish_violation(self, _event: ViolationEvent) -> None:
        self.violations += 1

    def publish_violation_end(self, _end: ViolationEnd) -> None:
        self.ends += 1

    def publish_status(self, _status: EdgeStatus) -> None:
        self.statuses += 1


def rss_mib() -> float:
    """This process's resident memory in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def pin_to_cores(cores: int) -> list[int]:
    """Run this process (and the threads it starts from now on) on the first `cores` CPUs."""
    available = sorted(os.sched_getaffinity(0))
    if cores > len(available):
        raise ValueError(f"asked for {cores} cores, this machine lets us use {len(available)}")
    chosen = available[:cores]
    os.sched_setaffinity(0, chosen)
    return chosen
