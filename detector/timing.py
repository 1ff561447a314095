"""OnnxDetector.detect timed against a bare onnxruntime session on the same model.

The baseline is the same model in a session with the same options, fed the tensor the detector's
letterbox made of the frame, so the difference is what our pre- and post-processing cost per
frame. The two are timed in turn, frame by frame, so that both see the same machine load: on a
shared machine the baseline says how fast the machine was while the detector was measured.
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from detector.letterbox import Letterboxer
from detector.onnx import OnnxDetector, open_session

WARMUP_FRAMES = 20


@dataclass(frozen=True, slots=True)
class DetectTiming:
    detect_ms_median: float
    bare_ms_median: float  # the same model in a bare onnxruntime session, same frames, same load
    detections: int  # what detect found in the frame

    @property
    def overhead_ms(self) -> float:
        return self.detect_ms_median - self.bare_ms_median

    @property
    def ratio(self) -> float:
        return self.detect_ms_median / self.bare_ms_median


def time_detect(
    model: Path,
    frame: NDArray[np.uint8],
    *,
    iterations: int,
    threads: int = 2,
    warmup: int = WARMUP_FRAMES,
) -> DetectTiming:
    """Median times of OnnxDetector.detect on the BGR frame and of a bare session run on the
    detector's input for it, interleaved over `iterations` frames each after `warmup` frames."""
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    detector = OnnxDetector(model, num_threads=threads)
    bare = open_session(model, threads)
    tensor = Letterboxer(detector.input_size)(frame)[0].copy()
    feed = {bare.get_inputs()[0].name: tensor}
    output_names = [bare.get_outputs()[0].name]

    def run_detector() -> None:
        detector.detect(frame)

    def run_bare() -> None:
        bare.run(output_names, feed)

    for _ in range(warmup):
        run_detector()
        run_bare()
    detect_ns: list[int] = []
    bare_ns: list[int] = []
    for _ in range(iterations):
        detect_ns.append(_time_ns(run_detector))
        bare_ns.append(_time_ns(run_bare))
    return DetectTiming(
        detect_ms_median=statistics.median(detect_ns) / 1e6,
        bare_ms_median=statistics.median(bare_ns) / 1e6,
        detections=len(detector.detect(frame)),
    )


def _time_ns(run: Callable[[], None]) -> int:
    start = time.perf_counter_ns()
    run()
    return time.perf_counter_ns() - start
