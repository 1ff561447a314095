"""EdgeWorker with fake sources, a stub detector and an in-memory publisher: the runtime's logic."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest
from numpy.typing import NDArray

from contracts import CameraState, EdgeState, ViolationKind
from detector.detections import Detections
from edge.config import EdgeConfig
from edge.worker import EdgeWorker
from streams.frame import Frame, SourceState
from tests.conftest import EDGE, SITE
from tests.fixtures.edge import (
    T0,
    FakeFrameSource,
    InMemoryEventPublisher,
    StubDetector,
    detections_of,
    frame_at,
    wait_until,
)

WIDTH, HEIGHT = 32, 24
RAT_MARK, BROKEN_MARK = 1, 2
CLASSES = ("person", "rat")


def respond(image: NDArray[np.uint8]) -> Detections:
    """A rat in the lower half when the frame is marked, nothing otherwise; raise when broken."""
    mark = int(image[0, 0, 0])
    if mark == BROKEN_MARK:
        raise RuntimeError("the detector choked on this frame")
    if mark == RAT_MARK:
        return detections_of(
            xyxy=[[8, 12, 16, 24]], labels=["rat"], confidence=[0.8], class_names=CLASSES
        )
    return Detections.empty(CLASSES)


def config(**overrides: object) -> EdgeConfig:
    data: dict[str, object] = {
        "site": SITE,
        "edge": EDGE,
        "cameras": [
            {"id": "cam-1", "url": "one.mp4", "detect_fps": 5},
            {"id": "cam-2", "url": "two.mp4", "detect_fps": 5},
        ],
        "model": {"path": "model.onnx"},
        "rules": [
            {
                "id": "rat",
                "kind": "rodent",
                "label": "rat",
                "min_duration_s": 3,
                "cooldown_s": 30,
                "severity": 1,
            }
        ],
        "mqtt": {"host": "localhost"},
        "outbox": {"path": "outbox.sqlite"},
        "status_interval_s": 60,
    }
    data.update(overrides)
    return EdgeConfig.model_validate(data)


def timeline(camera_id: str, start_s: float, end_s: float, step_s: float, mark: int) -> list:  # type: ignore[type-arg]
    count = round((end_s - start_s) / step_s)
    return [
        frame_at(
            round(start_s + i * step_s, 3),
            camera_id=camera_id,
            index=i,
            width=WIDTH,
            height=HEIGHT,
            marker=mark,
        )
        for i in range(count + 1)
    ]


@dataclass
class Running:
    worker: EdgeWorker
    sources: dict[str, FakeFrameSource]
    detector: StubDetector
    publisher: InMemoryEventPublisher
    stop_event: threading.Event
    thread: threading.Thread

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "run_until did not return after stop"

    def wait_consumed(self, camera_id: str, frames: int) -> None:
        """Until every frame was taken and settled: skipped, or processed (and its violations
        published), or failed; a frame is taken before it is detected."""

        def settled() -> bool:
            c = self.worker.counters(camera_id)
            return c.frames == frames == c.skipped + c.processed + c.failed

        wait_until(settled, 20, what=f"{frames} frames of {camera_id} handled")


StartWorker = Callable[..., Running]


@pytest.fixture
def run_worker() -> Iterator[StartWorker]:
    started: list[Running] = []

    def start(edge_config: EdgeConfig | None = None) -> Running:
        edge_config = edge_config or config()
        sources = {camera.id: FakeFrameSource(camera.id) for camera in edge_config.enabled_cameras}
        detector = StubDetector(respond, CLASSES)
        publisher = InMemoryEventPublisher()
        worker = EdgeWorker(edge_config, sources, detector, publisher, clock=lambda: T0)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run_until, args=(stop,), daemon=True)
        thread.start()
        running = Running(worker, sources, detector, publisher, stop, thread)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def push_all(source: FakeFrameSource, frames: list[Frame]) -> int:
    for frame in frames:
        source.push(frame)
    return len(frames)


def test_one_violation_after_min_duration_then_cooldown(run_worker: StartWorker) -> None:
    running = run_worker()
    # a rat for 20 s at 10 fps: fires at 3 s; the 30 s cooldown holds back any repeat
    count = push_all(running.sources["cam-1"], timeline("cam-1", 0.0, 20.0, 0.1, RAT_MARK))
    running.wait_consumed("cam-1", count)

    (event,) = running.publisher.violations
    assert event.site == SITE
    assert event.edge == EDGE
    assert event.camera == "cam-1"
    assert event.rule == "rat"
    assert event.kind is ViolationKind.RODENT
    assert event.severity == 1
    assert event.occurred_at == T0 + timedelta(seconds=3)
    assert event.has_snapshot is False
    (box,) = event.boxes
    assert (box.label, box.x1, box.y1, box.x2, box.y2) == ("rat", 0.25, 0.5, 0.5, 1.0)
    assert box.confidence == pytest.approx(0.8)


def test_frames_faster_than_detect_fps_are_skipped_and_counted(run_worker: StartWorker) -> None:
    running = run_worker()
    # 25 fps for 2 s (51 frames) sampled at 5 fps: 0.0, 0.2, ... 2.0
    count = push_all(running.sources["cam-1"], timeline("cam-1", 0.0, 2.0, 0.04, 0))
    running.wait_consumed("cam-1", count)

    counters = running.worker.counters("cam-1")
    assert (counters.frames, counters.processed, counters.skipped) == (51, 11, 40)
    assert running.detector.calls == 11


def test_a_failing_frame_is_counted_and_the_loop_goes_on(run_worker: StartWorker) -> None:
    running = run_worker()
    frames = timeline("cam-1", 0.0, 1.0, 0.2, BROKEN_MARK)
    frames += timeline("cam-1", 1.2, 6.0, 0.2, RAT_MARK)
    count = push_all(running.sources["cam-1"], frames)
    running.wait_consumed("cam-1", count)

    counters = running.worker.counters("cam-1")
    assert counters.failed == 6
    assert counters.processed == count - 6
    assert [event.occurred_at for event in running.publisher.violations] == [
        T0 + timedelta(seconds=4.2)
    ]


def test_cameras_run_side_by_side_with_their_own_timing(run_worker: StartWorker) -> None:
    running = run_worker()
    first = push_all(running.sources["cam-1"], timeline("cam-1", 0.0, 5.0, 0.2, RAT_MARK))
    second = push_all(running.sources["cam-2"], timeline("cam-2", 0.0, 2.0, 0.2, RAT_MARK))
    running.wait_consumed("cam-1", first)
    running.wait_consumed("cam-2", second)

    assert [event.camera for event in running.publisher.violations] == ["cam-1"]


def test_a_rule_applies_only_to_its_cameras(run_worker: StartWorker) -> None:
    edge_config = config(
        rules=[
            {
                "id": "rat",
                "kind": "rodent",
                "label": "rat",
                "cameras": ["cam-2"],
                "min_duration_s": 1,
            }
        ]
    )
    running = run_worker(edge_config)
    first = push_all(running.sources["cam-1"], timeline("cam-1", 0.0, 3.0, 0.2, RAT_MARK))
    second = push_all(running.sources["cam-2"], timeline("cam-2", 0.0, 3.0, 0.2, RAT_MARK))
    running.wait_consumed("cam-1", first)
    running.wait_consumed("cam-2", second)

    assert [event.camera for event in running.publisher.violations] == ["cam-2"]


def test_camera_state_changes_publish_the_status(run_worker: StartWorker) -> None:
    running = run_worker()
    wait_until(lambda: len(running.publisher.statuses) >= 1, 10, what="the first status")
    first = running.publisher.statuses[0]
    assert first.state is EdgeState.ONLINE
    assert {camera: status.state for camera, status in first.cameras.items()} == {
        "cam-1": CameraState.STARTING,
        "cam-2": CameraState.STARTING,
    }

    running.worker.on_source_state("cam-1", SourceState.ONLINE)
    running.worker.on_source_state("cam-1", SourceState.ONLINE)  # not a change
    running.worker.on_source_state("cam-2", SourceState.OFFLINE)

    published = running.publisher.statuses
    assert len(published) == 3
    assert published[-1].cameras["cam-1"].state is CameraState.ONLINE
    assert published[-1].cameras["cam-2"].state is CameraState.OFFLINE


def test_status_is_published_every_interval(run_worker: StartWorker) -> None:
    running = run_worker(config(status_interval_s=0.05))

    wait_until(lambda: len(running.publisher.statuses) >= 4, 10, what="periodic statuses")


def test_disabled_cameras_need_no_source_and_sources_must_match() -> None:
    edge_config = config(
        cameras=[
            {"id": "cam-1", "url": "one.mp4"},
            {"id": "cam-2", "url": "two.mp4", "enabled": False},
        ]
    )
    detector = StubDetector(respond, CLASSES)
    publisher = InMemoryEventPublisher()

    EdgeWorker(edge_config, {"cam-1": FakeFrameSource("cam-1")}, detector, publisher)
    with pytest.raises(ValueError, match="do not match the enabled cameras"):
        EdgeWorker(edge_config, {"cam-2": FakeFrameSource("cam-2")}, detector, publisher)


def test_stop_closes_the_sources_and_returns(run_worker: StartWorker) -> None:
    running = run_worker()
    wait_until(lambda: len(running.publisher.statuses) >= 1, 10, what="the worker to run")
    assert not any(source.closed.is_set() for source in running.sources.values())

    running.stop()

    assert all(source.closed.is_set() for source in running.sources.values())


def test_each_violation_is_logged_with_its_id(
    run_worker: StartWorker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="edge.worker")
    running = run_worker()
    count = push_all(running.sources["cam-1"], timeline("cam-1", 0.0, 4.0, 0.2, RAT_MARK))
    running.wait_consumed("cam-1", count)

    (event,) = running.publisher.violations
    assert f"violation created id={event.violation_id} camera=cam-1 rule=rat" in caplog.text
