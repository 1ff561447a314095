"""Detector overhead: OnnxDetector.detect against a bare onnxruntime run and against ultralytics.

On the same model and the same 640x360 kitchen frames, interleaved (blocks of all the frames,
in rotating order) so all three see the same machine load, the median time per frame of:
- OnnxDetector.detect (letterbox, inference, decode, NMS, boxes back to the frame);
- a bare onnxruntime session with the same options, fed the letterboxed tensor (inference only):
  ours / bare is our pre- and post-processing overhead, target <= 1.15;
- ultralytics' own predictor on the ONNX file, YOLO(model).predict(frame): ours / ultralytics,
  target <= 0.8 (ours faster).
Then throughput, wall time per frame over the same frames: the edge's detector pool as it runs
(SchedulerConfig.workers instances of the model sharing --threads, fed through the
DetectionScheduler by two cameras) against one ultralytics predictor in a loop.
Every side is pinned to the same cores (ultralytics' session takes all the cores it sees).

Needs a real YOLO model (models/kitchen/model.onnx by default) and ultralytics, which lives in the
training environment, not in .venv:

    .venv-train/bin/python -m bench.detector_vs_ultralytics [--model PATH] [--frames N]
        [--iterations N] [--threads N]

A random-weight yolov8n works for timing: in the training environment, with YOLO_OFFLINE=1,
YOLO("yolov8n.yaml").export(format="onnx", imgsz=320) (into var/, which git ignores).
"""

import os

# the product never phones home, nor do its benchmarks; before onnxruntime or ultralytics load
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
os.environ["YOLO_OFFLINE"] = "1"

import argparse
import importlib.util
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from bench.kitchen_streams import KITCHEN_MODEL, kitchen_videos, pin_to_cores
from bench.results import RESULTS_PATH, record
from bench.training_env import EXIT_MISSING, ultralytics_missing
from detector.letterbox import Letterboxer
from detector.onnx import OnnxDetector, open_session
from edge.scheduler import DetectionScheduler, SchedulerConfig

_WARMUP = 10


def kitchen_frames(count: int) -> list[NDArray[np.uint8]]:
    """`count` frames spread over the generated kitchen videos (workers in some of them)."""
    frames: list[NDArray[np.uint8]] = []
    videos = kitchen_videos(4)
    per_video = -(-count // len(videos))
    for video in videos:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            total = stream.frames or 400
            wanted = {round(i * total / per_video) for i in range(per_video)}
            for index, frame in enumerate(container.decode(stream)):
                if index in wanted:
                    frames.append(np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8))
    return frames[:count]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.detector_vs_ultralytics", description=__doc__
    )
    parser.add_argument("--model", type=Path, default=KITCHEN_MODEL, help="ultralytics ONNX")
    parser.add_argument("--frames", type=int, default=20, help="distinct frames")
    parser.add_argument("--iterations", type=int, default=300, help="timed frames per side")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--cores", type=int, default=2, help="CPUs every side may use")
    parser.add_argument(
        "--workers", type=int, default=SchedulerConfig().workers, help="instances in our pool"
    )
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="JSON to merge into")
    args = parser.parse_args(argv)
    if ultralytics_missing("bench.detector_vs_ultralytics"):
        return EXIT_MISSING
    if not args.model.is_file():
        sys.stderr.write(
            f"no model at {args.model}: pass --model PATH to an ultralytics YOLO ONNX export "
            "(e.g. YOLO('yolov8n.yaml').export(format='onnx', imgsz=320) for timing)\n"
        )
        return EXIT_MISSING
    if args.iterations < 1 or args.frames < 1:
        parser.error("--iterations and --frames must be at least 1")
    cores = pin_to_cores(args.cores)

    # imported by name: neither is installed where the project is type-checked
    importlib.import_module("torch").set_num_threads(args.threads)
    yolo = importlib.import_module("ultralytics").YOLO
    detector = OnnxDetector(args.model, num_threads=args.threads)
    bare = open_session(args.model, args.threads)
    ultralytics_model = yolo(str(args.model), task="detect")
    height, width = detector.input_size
    frames = kitchen_frames(args.frames)
    letterbox = Letterboxer(detector.input_size)
    tensors = [letterbox(frame)[0].copy() for frame in frames]
    input_name = bare.get_inputs()[0].name
    output_names = [bare.get_outputs()[0].name]

    def ours(index: int) -> None:
        detector.detect(frames[index])

    def onnxruntime_only(index: int) -> None:
        bare.run(output_names, {input_name: tensors[index]})

    def theirs(index: int) -> None:
        ultralytics_model.predict(
            frames[index], imgsz=(height, width), conf=0.25, iou=0.45, verbose=False
        )

    sides: dict[str, Callable[[int], None]] = {
        "ours": ours,
        "bare": onnxruntime_only,
        "ultralytics": theirs,
    }
    print(
        f"model: {args.model} (input {height}x{width}, {len(detector.class_names)} classes); "
        f"{len(frames)} kitchen frames 640x360; {args.iterations} timed frames per side; "
        f"{args.threads} onnxruntime threads; pinned to CPUs {cores}"
    )
    for index in range(_WARMUP):
        for run in sides.values():
            run(index % len(frames))
    timings: dict[str, list[int]] = {side: [] for side in sides}
    order = list(sides)
    block = len(frames)
    for round_number in range(-(-args.iterations // block)):
        # in blocks of every frame, each side first, second and third in turn: a side's session
        # threads that spin on after its run then slow the next side only at a block's start
        shift = round_number % len(order)
        for side in order[shift:] + order[:shift]:
            timings[side].extend(_time_ns(sides[side], index) for index in range(block))
    median_ms = {side: statistics.median(ns) / 1e6 for side, ns in timings.items()}
    vs_bare = median_ms["ours"] / median_ms["bare"]
    vs_ultralytics = median_ms["ours"] / median_ms["ultralytics"]
    print(f"OnnxDetector.detect            median {median_ms['ours']:8.3f} ms per frame")
    print(f"bare onnxruntime run           median {median_ms['bare']:8.3f} ms per frame")
    print(f"ultralytics YOLO(...).predict  median {median_ms['ultralytics']:8.3f} ms per frame")
    print(
        f"ours / bare onnxruntime   ratio {vs_bare:.3f} "
        f"(target <= 1.15: {_verdict(vs_bare <= 1.15)})"
    )
    print(
        f"ours / ultralytics        ratio {vs_ultralytics:.3f} "
        f"(target <= 0.8: {_verdict(vs_ultralytics <= 0.8)})"
    )
    pool_ms, predictor_ms = throughput_ms(args, frames, theirs)
    pool_ratio = pool_ms / predictor_ms
    per_worker = SchedulerConfig(workers=args.workers).threads_per_worker(args.threads)
    print(
        f"throughput on the {len(cores)} cores, ms per frame: the edge's detector pool "
        f"({args.workers} instances, {per_worker} thread(s) each, through the "
        f"DetectionScheduler) {pool_ms:.3f}, one ultralytics "
        f"predictor {predictor_ms:.3f}: ratio {pool_ratio:.3f}"
    )
    record(
        {
            "detector_pool_vs_ultralytics_throughput_ratio": pool_ratio,
            "detector_vs_bare_ms_median_ours": median_ms["ours"],
            "detector_vs_bare_ms_median_bare": median_ms["bare"],
            "detector_vs_bare_ratio": vs_bare,
            "detector_vs_ultralytics_ms_median_ultralytics": median_ms["ultralytics"],
            "detector_vs_ultralytics_ratio": vs_ultralytics,
            "detector_vs_ultralytics_model_is_kitchen": float(
                args.model.resolve() == KITCHEN_MODEL.resolve()
            ),
        },
        args.results,
    )
    print(f"figures merged into {args.results}")
    return 0


def throughput_ms(
    args: argparse.Namespace, frames: list[NDArray[np.uint8]], theirs: Callable[[int], None]
) -> tuple[float, float]:
    """Wall ms per frame over --iterations frames: our pool, fed by two cameras, and theirs."""
    per_worker = SchedulerConfig(workers=args.workers).threads_per_worker(args.threads)
    pool = [OnnxDetector(args.model, num_threads=per_worker) for _ in range(args.workers)]
    scheduler = DetectionScheduler(pool)
    scheduler.start()
    cameras = max(2, args.workers)

    def camera(number: int) -> None:
        for index in range(number, args.iterations, cameras):
            scheduler.detect(f"cam-{number}", frames[index % len(frames)])

    try:
        for index in range(_WARMUP):
            scheduler.detect("warm-up", frames[index % len(frames)])
        started = time.perf_counter()
        threads = [threading.Thread(target=camera, args=(n,)) for n in range(cameras)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        pool_ms = (time.perf_counter() - started) * 1000 / args.iterations
    finally:
        scheduler.close()
    started = time.perf_counter()
    for index in range(args.iterations):
        theirs(index % len(frames))
    return pool_ms, (time.perf_counter() - started) * 1000 / args.iterations


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _time_ns(run: Callable[[int], None], index: int) -> int:
    start = time.perf_counter_ns()
    run(index)
    return time.perf_counter_ns() - start


if __name__ == "__main__":
    raise SystemExit(main())
