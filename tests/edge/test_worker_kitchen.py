"""EdgeWorker with kitchen rules: incidents start and end on the wire, evidence, camera health."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from contracts import CameraState, ViolationEnd, ViolationEvent, ViolationKind
from detector.detections import Detections
from edge.config import EdgeConfig
from edge.evidence.config import EvidenceConfig
from edge.evidence.items import EvidenceKind
from edge.evidence.recorder import EvidenceRecorder
from edge.evidence.store import EvidenceStore
from edge.worker import EdgeWorker
from streams.frame import Frame, SourceState
from tests.conftest import EDGE, SITE
from tests.edge.kitchen.timeline import KITCHEN_CLASSES, dets, worker
from tests.fixtures.edge import (
    T0,
    FakeFrameSource,
    InMemoryEventPublisher,
    StubDetector,
    frame_at,
    wait_until,
)

WIDTH, HEIGHT = 640, 360
BARE, COVERED = 1, 2


def respond(image: NDArray[np.uint8]) -> Detections:
    """A worker at x=200 with a bare head (mark 1), a covered one (mark 2), or nobody."""
    mark = int(image[0, 0, 0])
    if mark == BARE:
        return dets(*worker(200.0, head="head_bare"))
    if mark == COVERED:
        return dets(*worker(200.0, head="head_covered"))
    return Detections.empty(KITCHEN_CLASSES)


def config(kitchen_rules: list[dict[str, object]], **kitchen: object) -> EdgeConfig:
    return EdgeConfig.model_validate(
        {
            "site": SITE,
            "edge": EDGE,
            "cameras": [{"id": "cam-1", "url": "one.mp4", "detect_fps": 5}],
            "model": {"path": "model.onnx"},
            "mqtt": {"host": "localhost"},
            "outbox": {"path": "outbox.sqlite"},
            "status_interval_s": 60,
            "kitchen": {"rules": kitchen_rules, **kitchen},
        }
    )


class FrameClock:
    """The newest handled frame's captured_at: ticks run on the frames' timeline, not the wall's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = T0

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def on_frame(self, frame: Frame) -> None:
        with self._lock:
            self._now = max(self._now, frame.captured_at)


@dataclass
class Running:
    worker: EdgeWorker
    source: FakeFrameSource
    publisher: InMemoryEventPublisher
    stop_event: threading.Event
    thread: threading.Thread

    def push(self, start_s: float, end_s: float, mark: int, *, first_index: int = 0) -> int:
        count = round((end_s - start_s) * 10)
        for i in range(count + 1):
            frame = frame_at(
                round(start_s + i * 0.1, 3),
                index=first_index + i,
                width=WIDTH,
                height=HEIGHT,
                marker=mark,
            )
            self.source.push(frame)
        return first_index + count + 1

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "run_until did not return after stop"


def start(edge_config: EdgeConfig, recorder: EvidenceRecorder | None = None) -> Running:
    clock = FrameClock()
    source = FakeFrameSource("cam-1")
    publisher = InMemoryEventPublisher()
    hooks = [clock.on_frame] + ([] if recorder is None else [recorder.on_frame])
    edge_worker = EdgeWorker(
        edge_config,
        {"cam-1": source},
        StubDetector(respond, KITCHEN_CLASSES),
        publisher,
        clock=clock,
        frame_hooks=hooks,
        recorder=recorder,
    )
    edge_worker.on_source_state("cam-1", SourceState.ONLINE)
    stop = threading.Event()
    thread = threading.Thread(target=edge_worker.run_until, args=(stop,), daemon=True)
    thread.start()
    return Running(edge_worker, source, publisher, stop, thread)


@pytest.fixture
def evidence(tmp_path: Path) -> Iterator[tuple[EvidenceStore, EvidenceRecorder]]:
    evidence_config = EvidenceConfig(
        directory=tmp_path / "evidence", ring_s=5, ring_fps=5, pre_s=1, post_s=1, post_grace_s=1
    )
    store = EvidenceStore(evidence_config.directory, quota_bytes=evidence_config.quota_bytes)
    recorder = EvidenceRecorder(evidence_config, store, ["cam-1"])
    recorder.start()
    yield store, recorder
    recorder.close()
    store.close()


def test_a_bare_head_is_one_event_then_one_end_with_its_evidence(
    evidence: tuple[EvidenceStore, EvidenceRecorder],
) -> None:
    store, recorder = evidence
    hat = {"id": "hat", "kind": "no_hat", "schedule": "always", "min_duration_s": 2, "clear_s": 2}
    running = start(config([hat]), recorder)
    try:
        # bare head for 6 s, then the hat goes on for 6 s (clear_s 2 ends the incident)
        index = running.push(0.0, 6.0, BARE)
        running.push(6.1, 12.0, COVERED, first_index=index)
        wait_until(lambda: len(running.publisher.messages) >= 2, 30, what="a violation and its end")
    finally:
        running.stop()

    event, end = running.publisher.messages
    assert isinstance(event, ViolationEvent)
    assert isinstance(end, ViolationEnd)
    assert (event.kind, event.rule, event.camera) == (ViolationKind.NO_HAT, "hat", "cam-1")
    assert event.has_snapshot is True
    assert end.violation_id == event.violation_id
    # the bare head was seen from 0 s to 6 s
    assert end.duration_s == pytest.approx(6.0, abs=0.5)
    wait_until(
        lambda: store.get(event.violation_id, EvidenceKind.SNAPSHOT) is not None,
        30,
        what="the snapshot filed under the event's id",
    )


def test_frames_that_stop_changing_make_the_camera_frozen() -> None:
    frozen = {"id": "frozen", "kind": "camera_frozen", "min_duration_s": 2, "clear_s": 1}
    running = start(config([frozen], health_sample_interval_s=0.2))
    try:
        running.push(0.0, 8.0, 0)  # the same black picture for 8 s
        wait_until(
            lambda: running.worker.status().cameras["cam-1"].state is CameraState.FROZEN,
            30,
            what="cam-1 frozen in the edge status",
        )
        # the change is published at once, not at the next status_interval_s (60 s here)
        wait_until(
            lambda: any(
                status.cameras["cam-1"].state is CameraState.FROZEN
                for status in running.publisher.statuses
            ),
            30,
            what="a published status with cam-1 frozen",
        )
    finally:
        running.stop()

    (event, end) = running.publisher.messages
    assert isinstance(event, ViolationEvent)
    assert event.kind is ViolationKind.CAMERA_FROZEN
    assert event.has_snapshot is False  # no evidence recorder here
    assert isinstance(end, ViolationEnd)  # shutdown ends the open incident
    assert end.violation_id == event.violation_id
