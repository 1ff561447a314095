"""Detector benchmark: OnnxDetector.detect against a bare onnxruntime run on the same model.

The baseline (detector.timing) is the same model in a session with the same options, fed the input
the detector's letterbox already made, so the difference is what our pre- and post-processing cost
per frame. A cheap model (the marker reference model is a few pooling layers) makes that cost look
large in the ratio; the overhead in milliseconds is the figure that carries over to heavier models.

    python -m bench.detector [--model PATH] [--iterations N] [--threads N]
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bench.results import RESULTS_PATH, record
from detector.onnx import OnnxDetector
from detector.timing import time_detect

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "marker" / "model.onnx"
FRAME_HW = (360, 640)


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
    result = time_detect(
        args.model, realistic_frame(), iterations=args.iterations, threads=args.threads
    )
    print(f"OnnxDetector.detect     median {result.detect_ms_median:8.3f} ms per frame")
    print(f"bare onnxruntime run    median {result.bare_ms_median:8.3f} ms per frame")
    print(
        f"pre/post overhead              {result.overhead_ms:8.3f} ms, "
        f"ratio {result.ratio:.3f} (detections in the frame: {result.detections})"
    )
    record(
        {
            "detector_ms_median": result.detect_ms_median,
            "bare_ort_ms_median": result.bare_ms_median,
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
