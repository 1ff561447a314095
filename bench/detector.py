"""Detector benchmark: OnnxDetector.detect against a bare onnxruntime run on the same model.

The baseline is the same model in a session with the same options, fed the input the detector's
letterbox already made, so the difference is what our pre- and post-processing cost per frame.
A cheap model (the marker reference model is a few pooling layers) makes that cost look large in
the ratio; the overhead in milliseconds is the figure that carries over to heavier models.

    python -m bench.detector [--model PATH] [--iterations N] [--threads N]
"""

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bench.results import RESULTS_PATH, record
from detector.letterbox import Letterboxer
from detector.onnx import OnnxDetector, open_session

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "marker" / "model.onnx"
FRAME_HW = (360, 640)
_WARMUP = 20


@dataclass(frozen=True, slots=True)
class DetectorBenchmark:
    detector_ms_median: float
    bare_ort_ms_median: float
    detections: int

    @property
    def overhead_ms(self) -> float:
        return self.detector_ms_median - self.bare_ort_ms_median

    @property
    def ratio(self) -> float:
        return self.detector_ms_median / self.bare_ort_ms_median


def realistic_frame(seed: int = 0) -> NDArray[np.uint8]:
    """A 640x360 BGR kitchen-like frame: tiled wall, steel counter, sensor noise, one red marker."""
    rng = np.random.default_rng(seed)
    height, width = FRAME_HW
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = (205, 212, 214)  # off-white tiles
    frame[::40, :] = (150, 155, 155)  # grout
    frame[:, ::40] = (150, 155, 155)
    counter_top = int(height * 0.62)
    frame[counter_top:] = (168, 170, 172)  # brushed steel
    frame[counter_top:, :, :] += rng.integers(0, 12, (height - counter_top, width, 1), np.uint8)
    noise = rng.integers(-6, 7, frame.shape, np.int16)
    noisy: NDArray[np.uint8] = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    noisy[counter_top + 30 : counter_top + 94, 300:364] = (20, 20, 230)  # the red marker, BGR
    return noisy


def measure(model: Path, *, iterations: int, threads: int) -> DetectorBenchmark:
    detector = OnnxDetector(model, num_threads=threads)
    bare = open_session(model, threads)
    frame = realistic_frame()
    tensor = Letterboxer(detector.input_size)(frame)[0].copy()
    input_name = bare.get_inputs()[0].name
    output_names = [bare.get_outputs()[0].name]
    feed = {input_name: tensor}

    def run_detector() -> None:
        detector.detect(frame)

    def run_bare() -> None:
        bare.run(output_names, feed)

    for _ in range(_WARMUP):
        run_detector()
        run_bare()
    detector_ns: list[int] = []
    bare_ns: list[int] = []
    # interleaved, so both see the same machine load
    for _ in range(iterations):
        detector_ns.append(_time_ns(run_detector))
        bare_ns.append(_time_ns(run_bare))
    return DetectorBenchmark(
        detector_ms_median=statistics.median(detector_ns) / 1e6,
        bare_ort_ms_median=statistics.median(bare_ns) / 1e6,
        detections=len(detector.detect(frame)),
    )


def _time_ns(run: Callable[[], None]) -> int:
    start = time.perf_counter_ns()
    run()
    return time.perf_counter_ns() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detector", description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="ultralytics ONNX")
    parser.add_argument("--iterations", type=int, default=500, help="timed frames per side")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="JSON to merge into")
    args = parser.parse_args(argv)
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")
    detector = OnnxDetector(args.model, num_threads=args.threads)
    height, width = detector.input_size
    print(
        f"model: {args.model} (input {height}x{width}, output {detector.layout}, "
        f"{len(detector.class_names)} classes: {', '.join(detector.class_names)})"
    )
    print(
        f"frame: {FRAME_HW[1]}x{FRAME_HW[0]} BGR, {args.iterations} frames per side, "
        f"{args.threads} onnxruntime threads"
    )
    result = measure(args.model, iterations=args.iterations, threads=args.threads)
    print(f"OnnxDetector.detect     median {result.detector_ms_median:8.3f} ms per frame")
    print(f"bare onnxruntime run    median {result.bare_ort_ms_median:8.3f} ms per frame")
    print(
        f"pre/post overhead              {result.overhead_ms:8.3f} ms, "
        f"ratio {result.ratio:.3f} (detections in the frame: {result.detections})"
    )
    record(
        {
            "detector_ms_median": result.detector_ms_median,
            "bare_ort_ms_median": result.bare_ort_ms_median,
            "detector_overhead_ms_median": result.overhead_ms,
            "detector_overhead_ratio": result.ratio,
            "detector_input_height_px": height,
            "detector_input_width_px": width,
        },
        args.results,
    )
    print(f"figures merged into {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
