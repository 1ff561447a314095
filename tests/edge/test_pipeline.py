"""CameraPipeline on synthetic timelines: sampling, motion gating, keep-alive, regions, hooks."""

from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

import numpy as np
import pytest
from numpy.typing import NDArray

from contracts import ViolationKind
from detector.detections import Detections
from edge.motion import MotionConfig
from edge.pipeline import CameraPipeline, DetectReason, FrameOutcome
from edge.regions import Region
from edge.rules import LabelInZoneRule
from edge.scheduler import DetectionScheduler
from edge.violation import Violation
from streams.frame import Frame
from tests.fixtures.edge import T0, detections_of

pytestmark = pytest.mark.timeout(60)

CLASSES = ("person", "rat", "red_marker")
SMALL = (360, 640)


def textured(hw: tuple[int, int] = SMALL) -> NDArray[np.uint8]:
    rng = np.random.default_rng(0)
    image = np.full((*hw, 3), 190, np.uint8)
    image[:: hw[0] // 8] = 120
    image[:, :: hw[1] // 16] = 120
    image += rng.integers(0, 8, (*hw, 1), np.uint8)
    return image


def frame(t_s: float, image: NDArray[np.uint8], index: int | None = None) -> Frame:
    return Frame(
        camera_id="cam-1",
        index=round(t_s * 10) if index is None else index,
        captured_at=T0 + timedelta(milliseconds=round(t_s * 1000)),
        image=image,
    )


def with_square(image: NDArray[np.uint8], x: int, y: int, size: int = 40) -> NDArray[np.uint8]:
    out = image.copy()
    out[y : y + size, x : x + size] = (30, 30, 220)
    return out


class FakeRedFinder:
    """Boxes the strongly red pixels of the image it gets (one rat), remembering the shapes."""

    def __init__(self, input_size: tuple[int, int] | None = None) -> None:
        self.shapes: list[tuple[int, int]] = []
        if input_size is not None:
            self.input_size = input_size

    @property
    def class_names(self) -> tuple[str, ...]:
        return CLASSES

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        self.shapes.append((int(image.shape[0]), int(image.shape[1])))
        ys, xs = np.nonzero((image[:, :, 2] > 200) & (image[:, :, 0] < 60))
        if xs.size == 0:
            return Detections.empty(CLASSES)
        box = [[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]]
        return detections_of(xyxy=box, labels=["rat"], confidence=[0.9], class_names=CLASSES)


class Harness:
    def __init__(self, detector: FakeRedFinder) -> None:
        self.detector = detector
        self.scheduler = DetectionScheduler([detector])
        self.scheduler.start()
        self.published: list[Violation] = []
        self.frames_seen: list[int] = []
        self.outcomes: list[FrameOutcome] = []

    def pipeline(self, **options: object) -> CameraPipeline:
        settings: dict[str, object] = {
            "detect_fps": 5.0,
            "scheduler": self.scheduler,
            "rules": (),
            "publish": self.published.append,
            "class_names": CLASSES,
            "frame_hooks": (lambda f: self.frames_seen.append(f.index),),
            "outcome_hooks": (self.outcomes.append,),
        }
        settings.update(options)
        return CameraPipeline("cam-1", **settings)  # type: ignore[arg-type]


@pytest.fixture
def harness() -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(detector: FakeRedFinder | None = None) -> Harness:
        made.append(Harness(detector or FakeRedFinder()))
        return made[-1]

    yield make
    for harness in made:
        harness.scheduler.close()


def run(pipeline: CameraPipeline, frames: list[Frame]) -> list[FrameOutcome]:
    return [outcome for f in frames if (outcome := pipeline.handle(f)) is not None]


def times(outcomes: list[FrameOutcome], reason: DetectReason | None) -> list[float]:
    return [
        round((o.frame.captured_at - T0).total_seconds(), 1) for o in outcomes if o.reason is reason
    ]


def test_without_motion_gating_every_sampled_frame_is_detected(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    pipeline = h.pipeline()
    still = textured()

    outcomes = run(pipeline, [frame(i / 10, still) for i in range(21)])

    assert times(outcomes, DetectReason.ALWAYS) == [round(i * 0.2, 1) for i in range(11)]
    counters = pipeline.counters
    assert (counters.frames, counters.skipped, counters.detected) == (21, 10, 11)
    assert h.frames_seen == list(range(21))  # frame hooks see every frame taken


def test_a_still_scene_is_detected_only_at_the_keepalive(harness: Callable[..., Harness]) -> None:
    h = harness()
    pipeline = h.pipeline(motion=MotionConfig(keepalive_s=2.0))
    still = textured()

    outcomes = run(pipeline, [frame(i / 10, still) for i in range(101)])

    assert times(outcomes, DetectReason.KEEPALIVE) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert times(outcomes, DetectReason.MOTION) == []
    assert len(outcomes) == 51  # every sampled frame is still evaluated
    assert pipeline.counters.detected == 6


def test_motion_runs_the_detector_while_something_moves(harness: Callable[..., Harness]) -> None:
    h = harness()
    pipeline = h.pipeline(motion=MotionConfig(keepalive_s=2.0))
    still = textured()
    frames = [frame(i / 10, still) for i in range(30)]
    # a square crosses from 3.0 s to 3.8 s
    frames += [frame(3.0 + i / 10, with_square(still, 100 + 30 * i, 200)) for i in range(9)]
    frames += [frame(3.9 + i / 10, still) for i in range(12)]

    outcomes = run(pipeline, frames)

    assert times(outcomes, DetectReason.MOTION)[:5] == [3.0, 3.2, 3.4, 3.6, 3.8]
    assert times(outcomes, DetectReason.KEEPALIVE)[:2] == [0.0, 2.0]


def test_an_active_track_keeps_the_detector_running(harness: Callable[..., Harness]) -> None:
    h = harness()
    tracking = {"cam-1": False}
    pipeline = h.pipeline(
        motion=MotionConfig(keepalive_s=2.0), active_tracks=lambda camera: tracking[camera]
    )
    still = textured()
    before = run(pipeline, [frame(i / 10, still) for i in range(10)])
    tracking["cam-1"] = True
    during = run(pipeline, [frame(1.0 + i / 10, still) for i in range(10)])

    assert times(before, DetectReason.KEEPALIVE) == [0.0]
    assert times(during, DetectReason.TRACKS) == [1.0, 1.2, 1.4, 1.6, 1.8]


def test_a_stationary_violation_keeps_its_persistence_between_keepalives(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    rule = LabelInZoneRule(
        rule_id="rat",
        kind=ViolationKind.RODENT,
        label="rat",
        severity=1,
        min_duration_s=3.0,
        cooldown_s=30.0,
        max_gap_s=1.0,
    )
    pipeline = h.pipeline(motion=MotionConfig(keepalive_s=2.0), rules=(rule,))
    rat_sits = with_square(textured(), 300, 250)

    run(pipeline, [frame(i / 10, rat_sits) for i in range(51)])

    assert pipeline.counters.detected == 3  # 0, 2 and 4 s
    # known objects carry over the frames in between, so the rule sees the rat all along
    assert [v.occurred_at - T0 for v in h.published] == [timedelta(seconds=3)]


def test_motion_in_a_large_frame_is_detected_on_a_native_crop_and_mapped_back(
    harness: Callable[..., Harness],
) -> None:
    h = harness(FakeRedFinder(input_size=(320, 320)))
    pipeline = h.pipeline(motion=MotionConfig(), region_size_px=320)
    still = textured((1080, 1920))
    run(pipeline, [frame(0.0, still), frame(0.2, still)])  # the first frame is a keep-alive

    outcome = pipeline.handle(frame(0.4, with_square(still, 1500, 800, 48)))

    assert outcome is not None
    assert outcome.reason is DetectReason.MOTION
    assert h.detector.shapes == [(1080, 1920), (320, 320)]
    assert outcome.detections.xyxy.tolist() == [[1500, 800, 1548, 848]]
    (region,) = outcome.regions
    assert region.x1 <= 1500 < 1548 <= region.x2
    assert region.y1 <= 800 < 848 <= region.y2


def test_due_frames_the_source_dropped_while_we_were_busy_are_counted(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    pipeline = h.pipeline()
    still = textured()
    # indexes 3..6 never reached us; the 0.4 s slot had no frame; 0.7 takes the 0.6 s slot
    run(pipeline, [frame(t, still) for t in (0.0, 0.1, 0.2)] + [frame(0.7, still)])
    # a stall of the camera itself (no frame decoded, no index lost) is not the edge's fault
    run(pipeline, [frame(2.0, still, index=8)])

    counters = pipeline.counters
    assert counters.skipped_busy == 1
    assert counters.read == 9
    assert counters.frames == 5


def test_a_failing_hook_is_logged_once_and_the_camera_goes_on(
    harness: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = harness()

    def broken_hook(_frame: Frame) -> None:
        raise RuntimeError("ring buffer full")

    pipeline = h.pipeline(frame_hooks=(broken_hook,))

    outcomes = run(pipeline, [frame(i / 10, textured()) for i in range(5)])

    assert len(outcomes) == 3
    assert caplog.text.count("hook failed camera=cam-1") == 1
    assert len(h.outcomes) == 3


class FakeBusyScheduler:
    """Answers at once with no detection; says `others_waiting` frames of other cameras wait."""

    def __init__(self) -> None:
        self.others_waiting = 0

    def detect(
        self, camera_id: str, image: NDArray[np.uint8], regions: Sequence[Region] = ()
    ) -> Detections | None:
        return Detections.empty(CLASSES)

    def waiting(self) -> int:
        return self.others_waiting


def test_a_keepalive_gives_way_while_other_cameras_wait_but_not_for_ever() -> None:
    busy = FakeBusyScheduler()
    pipeline = CameraPipeline(
        "cam-1",
        detect_fps=5.0,
        scheduler=busy,
        rules=(),
        publish=lambda _violation: None,
        motion=MotionConfig(keepalive_s=2.0),
    )
    still = textured()
    first = run(pipeline, [frame(i / 10, still) for i in range(20)])  # up to 1.9 s
    busy.others_waiting = 3
    held = run(pipeline, [frame(2.0 + i / 10, still) for i in range(21)])  # 2.0 .. 4.0 s
    busy.others_waiting = 0
    later = run(pipeline, [frame(4.1 + i / 10, still) for i in range(30)])  # 4.1 .. 7.0 s

    assert times(first, DetectReason.KEEPALIVE) == [0.0]
    # due at 2.0 s but others wait: put off until it is a whole keep-alive late (4.0 s)
    assert times(held, DetectReason.KEEPALIVE) == [4.0]
    assert times(later, DetectReason.KEEPALIVE) == [6.0]
    assert pipeline.counters.skipped_busy == 0


def test_cameras_start_their_keepalives_at_staggered_phases(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    pipeline = h.pipeline(motion=MotionConfig(keepalive_s=2.0), keepalive_offset_s=1.2)

    outcomes = run(pipeline, [frame(i / 10, textured()) for i in range(61)])

    assert times(outcomes, DetectReason.KEEPALIVE) == [0.0, 0.8, 2.8, 4.8]


def test_the_rule_engine_can_ask_for_a_faster_rate_for_a_while(
    harness: Callable[..., Harness],
) -> None:
    h = harness()
    wanted: dict[str, float | None] = {"cam-1": None}
    pipeline = h.pipeline(detect_fps=2.0, wanted_fps=lambda camera: wanted[camera])
    still = textured()

    slow = run(pipeline, [frame(i / 10, still) for i in range(10)])
    wanted["cam-1"] = 5.0  # a rodent is being followed
    fast = run(pipeline, [frame(1.0 + i / 10, still) for i in range(10)])
    wanted["cam-1"] = None
    back = run(pipeline, [frame(2.0 + i / 10, still) for i in range(11)])

    assert times(slow, DetectReason.ALWAYS) == [0.0, 0.5]
    assert times(fast, DetectReason.ALWAYS) == [1.0, 1.2, 1.4, 1.6, 1.8]
    assert times(back, DetectReason.ALWAYS) == [2.0, 2.5, 3.0]


@pytest.mark.parametrize(("hw", "rechecked"), [((1080, 1920), True), (SMALL, False)])
def test_a_keepalive_rechecks_known_objects_on_a_native_crop_only_in_a_large_frame(
    harness: Callable[..., Harness], hw: tuple[int, int], rechecked: bool
) -> None:
    h = harness(FakeRedFinder(input_size=(320, 320)))
    pipeline = h.pipeline(motion=MotionConfig(keepalive_s=2.0), region_size_px=320)
    rat_sits = with_square(textured(hw), 300, 250, 48)

    outcomes = run(pipeline, [frame(i / 10, rat_sits) for i in range(21)])

    first, second = (o for o in outcomes if o.reason is DetectReason.KEEPALIVE)
    assert first.regions == ()  # nothing known yet: the whole frame
    if rechecked:
        whole, crop = second.regions
        assert whole == Region.whole(hw)
        assert (crop.width, crop.height) == (320, 320)
        assert h.detector.shapes == [hw, hw, (320, 320)]
    else:
        assert second.regions == ()
        assert h.detector.shapes == [hw, hw]
    assert second.detections.xyxy.tolist() == [[300, 250, 348, 298]]
