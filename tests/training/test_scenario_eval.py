"""Scenario evaluation: a small video through a detector and the edge's rules, events vs truth."""

import io
import itertools
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from detector.detections import Detections
from detector.onnx import OnnxDetector
from scenes.marker_model import build_marker_model
from training.cli import run_eval
from training.errors import DatasetError
from training.scenario_eval import (
    TiledDetector,
    evaluate_scenarios,
    format_scenario_table,
    tile_origins,
)

NAMES = ("person", "head_covered", "head_bare")
FPS = 10


class FakeRedHeadDetector:
    """Sees a bare head wherever the frame is mostly red (the video below draws it 2-6 s)."""

    class_names = NAMES

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        red = (image[:, :, 2] > 150) & (image[:, :, 1] < 100)
        if red.mean() < 0.2:
            return Detections.empty(NAMES)
        return Detections(
            xyxy=np.array([[10, 10, 50, 50]], np.float32),
            confidence=np.array([0.9], np.float32),
            class_id=np.array([2], np.int64),
            class_names=NAMES,
        )


def _video(folder: Path, name: str, red_s: tuple[float, float], duration_s: float = 10.0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with av.open(str(folder / f"{name}.mp4"), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = 96, 64
        stream.pix_fmt = "yuv420p"
        for index in range(int(duration_s * FPS)):
            t_s = index / FPS
            image = np.full((64, 96, 3), 120, np.uint8)
            if red_s[0] <= t_s < red_s[1]:
                image[:, :] = (20, 20, 230)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _truth(folder: Path, name: str, events: list[tuple[str, float, float]]) -> None:
    document = {
        "scenario": name,
        "camera": "cam-1",
        "events": [
            {"kind": kind, "camera": "cam-1", "start_s": start, "end_s": end}
            for kind, start, end in events
        ],
    }
    (folder / f"{name}.json").write_text(json.dumps(document))


def test_events_are_matched_per_kind(tmp_path: Path) -> None:
    _video(tmp_path, "hat", (2.0, 6.0))
    _truth(tmp_path, "hat", [("no_hat", 2.0, 6.0), ("no_mask", 7.0, 9.0)])
    _video(tmp_path, "quiet", (20.0, 20.0))
    _truth(tmp_path, "quiet", [])
    (report,) = evaluate_scenarios(FakeRedHeadDetector(), tmp_path, detect_fps=5.0, tiled=False)
    kinds = {k.kind: k for k in report.kinds}
    assert (kinds["no_hat"].truth, kinds["no_hat"].predicted) == (1, 1)
    assert kinds["no_hat"].precision == 1.0
    assert kinds["no_hat"].recall == 1.0
    assert (kinds["no_mask"].truth, kinds["no_mask"].predicted, kinds["no_mask"].recall) == (
        1,
        0,
        0,
    )
    (hat, quiet) = report.videos
    (incident,) = hat.predicted
    # the edge's no_hat rule: a bare head seen from 2 s for its 3 s opens the incident, which
    # spans the whole time the head was bare (it ends when the head is lost or the video ends)
    assert incident.start_s == pytest.approx(2.0, abs=0.21)
    assert incident.end_s >= 5.8
    assert quiet.predicted == ()
    assert "no_hat" in format_scenario_table(report)


def test_a_bare_head_shorter_than_the_rules_persistence_is_no_incident(tmp_path: Path) -> None:
    _video(tmp_path, "hat", (2.0, 4.0))
    _truth(tmp_path, "hat", [])
    (report,) = evaluate_scenarios(FakeRedHeadDetector(), tmp_path, detect_fps=5.0, tiled=False)
    assert report.videos[0].predicted == ()


def test_a_false_alarm_lowers_precision(tmp_path: Path) -> None:
    _video(tmp_path, "hat", (2.0, 6.0))
    _truth(tmp_path, "hat", [])
    (report,) = evaluate_scenarios(FakeRedHeadDetector(), tmp_path, detect_fps=5.0, tiled=False)
    kinds = {k.kind: k for k in report.kinds}
    assert (kinds["no_hat"].predicted, kinds["no_hat"].precision) == (1, 0.0)


def test_a_video_without_truth_is_named(tmp_path: Path) -> None:
    _video(tmp_path, "lonely", (0.0, 1.0), duration_s=1.0)
    with pytest.raises(DatasetError, match=r"lonely\.mp4"):
        evaluate_scenarios(FakeRedHeadDetector(), tmp_path, tiled=False)


def test_eval_cli_scenario_json(tmp_path: Path) -> None:
    model = tmp_path / "marker.onnx"
    build_marker_model(model, class_names=("red_marker",))
    _video(tmp_path / "videos", "hat", (2.0, 6.0))
    _truth(tmp_path / "videos", "hat", [("no_hat", 2.0, 6.0)])
    out = io.StringIO()
    assert run_eval(model, None, tmp_path / "videos", as_json=True, out=out) == 0
    document = json.loads(out.getvalue())
    # the marker model knows no kitchen class: the truth event is missed, nothing is alarmed
    assert document["kinds"]["no_hat"]["truth"] == 1
    assert document["kinds"]["no_hat"]["recall"] == 0.0
    assert document["kinds"]["no_hat"]["predicted"] == 0


def test_tile_origins_cover_the_frame() -> None:
    assert tile_origins(640, 320) == [0, 320]
    assert tile_origins(360, 320) == [0, 40]
    assert tile_origins(300, 320) == [0]
    assert tile_origins(700, 320) == [0, 190, 380]


def test_tiles_overlap_by_at_least_the_overlap() -> None:
    assert tile_origins(640, 320, 80) == [0, 160, 320]
    assert tile_origins(360, 320, 80) == [0, 40]
    for length in (400, 640, 1280, 1920):
        starts = tile_origins(length, 320, 80)
        assert starts[0] == 0
        assert starts[-1] + 320 == length
        assert all(b - a <= 240 for a, b in itertools.pairwise(starts))
    with pytest.raises(ValueError, match="overlap"):
        tile_origins(640, 320, 320)


def test_tiled_detector_returns_boxes_in_frame_pixels(tmp_path: Path) -> None:
    model = tmp_path / "marker.onnx"
    build_marker_model(model, class_names=("red_marker",))
    detector = TiledDetector(OnnxDetector(model), (320, 320))
    frame = np.full((360, 640, 3), (120, 130, 125), np.uint8)
    frame[290:330, 500:540] = (20, 20, 230)  # in the lower-right tile only
    frame[20:50, 300:340] = (20, 20, 230)  # across the vertical tile border
    found = detector.detect(frame)
    boxes = sorted(found.xyxy.tolist())
    assert len(boxes) >= 2
    assert any(abs(b[0] - 500) < 3 and abs(b[1] - 290) < 3 and abs(b[2] - 540) < 3 for b in boxes)
    assert all(0 <= b[0] < b[2] <= 640 and 0 <= b[1] < b[3] <= 360 for b in boxes)
    # the marker across the border at x = 320 is found whole (by the middle tile), not in halves
    assert [b for b in boxes if b[1] < 100] == [pytest.approx([300, 20, 340, 50], abs=3)]
