"""The next kitchen model in training (models/kitchen-next/model.onnx): a YOLO26n-P2 that a later
session continues with a warm start from this file. It must stay loadable by the edge's detector
and continuable: its stored history names its architecture, and every convolution the warm start
reads is a named module weight, the one-to-many head complete (its one-to-one twin is seeded from
it)."""

from pathlib import Path

import numpy as np
import onnx
import pytest

from detector.model_spec import OutputLayout
from detector.onnx import OnnxDetector
from scenes.classes import CLASS_NAMES
from scenes.scene import generate_scene
from tests.models.unseen_scenes import TEST_CONFIG, found_of
from training.provenance import read_history
from training.warm_start import onnx_conv_params

MODEL = Path(__file__).resolve().parents[2] / "models" / "kitchen-next" / "model.onnx"


@pytest.fixture(scope="module")
def detector() -> OnnxDetector:
    return OnnxDetector(MODEL, confidence_threshold=0.3)


def test_the_candidate_loads_in_the_edge_detector_with_the_kitchen_classes(
    detector: OnnxDetector,
) -> None:
    assert detector.class_names == CLASS_NAMES
    assert detector.input_size == (320, 320)
    assert detector.layout is OutputLayout.RAW  # the one-to-many head, NMS in OnnxDetector
    assert len(detector.detect(np.full((360, 640, 3), 128, dtype=np.uint8)).labels) == 0  # blank


def test_the_candidate_already_finds_large_bare_heads_and_masked_faces(
    detector: OnnxDetector,
) -> None:
    # measured at 0.3 on these 20 scenes after 130 epochs in 13 runs: head_bare 28/28,
    # face_masked 25/25 (rodent 10/11, food_uncovered 17/18 are not asked for yet); random weights
    # find none
    seen = []
    for seed in range(101, 121):
        scene = generate_scene(seed, size=320, config=TEST_CONFIG)
        seen.append((scene, detector.detect(scene.image)))
    for wanted, bar in (("head_bare", 0.9), ("face_masked", 0.85)):
        found, total = found_of(seen, wanted)
        assert total >= 10
        assert found / total >= bar, f"{wanted}: found {found} of {total}"


def test_the_candidate_can_be_continued_by_a_warm_start() -> None:
    runs = read_history(MODEL)
    assert runs
    assert runs[0].start == "scratch"
    assert {run.architecture for run in runs} == {"yolo26n-p2.yaml"}
    convs = onnx_conv_params(onnx.load(str(MODEL)))
    heads = [name for name in convs if ".cv2." in name or ".cv3." in name]
    assert heads
    assert not [name for name in convs if ".one2one_" in name]  # left out by the raw export
    assert MODEL.stat().st_size <= 15 * 1024 * 1024
