"""time_detect times OnnxDetector.detect in turn with a bare session on the real marker model."""

from pathlib import Path

import pytest

from detector.onnx import OnnxDetector
from detector.timing import time_detect
from tests.detector.conftest import RED_BGR, draw_square, plain_frame


def test_both_sides_are_timed_on_the_same_frame(marker_models: dict[str, Path]) -> None:
    frame = plain_frame()
    draw_square(frame, (300, 150, 348, 198), RED_BGR)
    timing = time_detect(marker_models["red"], frame, iterations=5, warmup=1)
    assert timing.detect_ms_median > 0.0
    assert timing.bare_ms_median > 0.0
    assert timing.overhead_ms == pytest.approx(timing.detect_ms_median - timing.bare_ms_median)
    assert timing.ratio == pytest.approx(timing.detect_ms_median / timing.bare_ms_median)
    assert timing.detections == len(OnnxDetector(marker_models["red"]).detect(frame)) == 1


def test_no_iterations_is_refused(marker_models: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="iterations must be at least 1, got 0"):
        time_detect(marker_models["red"], plain_frame(), iterations=0)
