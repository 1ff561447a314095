"""DetectionScheduler: cameras are served in turn; what cannot be served is skipped, not queued."""

import threading
from collections.abc import Iterator

import numpy as np
import pytest
from numpy.typing import NDArray

from detector.detections import Detections
from edge.scheduler import DetectionScheduler, SchedulerClosedError, SchedulerConfig
from tests.fixtures.edge import wait_until

pytestmark = pytest.mark.timeout(60)

CAMERAS = ("cam-1", "cam-2", "cam-3", "cam-4")


def image_of(camera_number: int, frame_number: int = 0) -> NDArray[np.uint8]:
    image = np.zeros((8, 8, 3), np.uint8)
    image[0, 0, 0] = camera_number
    image[0, 0, 1] = frame_number
    return image


class FakeSlowDetector:
    """Answers only when the test lets it (one permit per frame); records what it served.

    `served` holds (camera number, frame number) in the order the detector got them.
    """

    def __init__(self, *, gated: bool = True) -> None:
        self._gate = threading.Semaphore(0)
        self._gated = gated
        self._lock = threading.Lock()
        self.served: list[tuple[int, int]] = []
        self.inside = 0  # frames the detector has started

    @property
    def class_names(self) -> tuple[str, ...]:
        return ("thing",)

    def allow(self, frames: int = 1) -> None:
        self._gate.release(frames)

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        with self._lock:
            self.inside += 1
        if self._gated:
            self._gate.acquire()
        with self._lock:
            self.served.append((int(image[0, 0, 0]), int(image[0, 0, 1])))
        return Detections.empty(self.class_names)


@pytest.fixture
def slow() -> FakeSlowDetector:
    return FakeSlowDetector()


@pytest.fixture
def scheduler(slow: FakeSlowDetector) -> Iterator[DetectionScheduler]:
    scheduler = DetectionScheduler([slow])
    for camera_id in CAMERAS:
        scheduler.add_camera(camera_id)
    scheduler.start()
    yield scheduler
    slow.allow(1000)
    scheduler.close()


def test_cameras_are_served_in_turn_and_a_newer_frame_replaces_a_waiting_one(
    slow: FakeSlowDetector, scheduler: DetectionScheduler
) -> None:
    first = scheduler.offer("cam-1", image_of(1, 1))
    wait_until(lambda: slow.inside == 1, what="the detector to take cam-1's frame")
    others = [scheduler.offer(f"cam-{n}", image_of(n, 1)) for n in (2, 3, 4)]
    replaced = scheduler.offer("cam-1", image_of(1, 2))
    newest = scheduler.offer("cam-1", image_of(1, 3))

    assert scheduler.waiting() == 4  # one slot per camera, never more
    slow.allow(5)
    answers = [ticket.wait(10) for ticket in (first, *others, newest)]

    assert slow.served == [(1, 1), (2, 1), (3, 1), (4, 1), (1, 3)]
    assert all(isinstance(answer, Detections) for answer in answers)
    assert replaced.wait(10) is None
    assert replaced.superseded
    assert scheduler.stats("cam-1").skipped == 1
    assert [scheduler.stats(camera).skipped for camera in CAMERAS[1:]] == [0, 0, 0]


def test_a_camera_offering_faster_than_the_detector_only_ever_has_its_newest_frame_waiting(
    slow: FakeSlowDetector, scheduler: DetectionScheduler
) -> None:
    first = scheduler.offer("cam-1", image_of(1, 0))
    wait_until(lambda: slow.inside == 1, what="the detector to start")
    tickets = [scheduler.offer("cam-1", image_of(1, frame)) for frame in range(1, 101)]

    assert scheduler.waiting() == 1
    slow.allow(2)
    assert first.wait(10) is not None
    assert tickets[-1].wait(10) is not None
    assert all(ticket.wait(10) is None and ticket.superseded for ticket in tickets[:-1])
    assert slow.served == [(1, 0), (1, 100)]
    stats = scheduler.stats("cam-1")
    assert (stats.offered, stats.served, stats.skipped) == (101, 2, 99)


def test_four_cameras_each_waiting_for_their_answers_are_all_served() -> None:
    detector = FakeSlowDetector(gated=False)
    scheduler = DetectionScheduler([detector])
    scheduler.start()
    frames_per_camera = 25
    answered: dict[str, int] = dict.fromkeys(CAMERAS, 0)

    def camera(number: int) -> None:
        camera_id = f"cam-{number}"
        for frame in range(frames_per_camera):
            if scheduler.detect(camera_id, image_of(number, frame)) is not None:
                answered[camera_id] += 1

    threads = [threading.Thread(target=camera, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    scheduler.close()

    assert answered == dict.fromkeys(CAMERAS, frames_per_camera)
    assert sorted(detector.served) == sorted(
        (n, frame) for n in range(1, 5) for frame in range(frames_per_camera)
    )
    for camera_id in CAMERAS:
        stats = scheduler.stats(camera_id)
        assert (stats.served, stats.skipped, stats.latency.count) == (frames_per_camera, 0, 25)


def test_a_busy_camera_cannot_starve_the_others(
    slow: FakeSlowDetector, scheduler: DetectionScheduler
) -> None:
    # cam-1 always has a frame waiting, offered before the others offer theirs
    scheduler.offer("cam-1", image_of(1, 0))
    wait_until(lambda: slow.inside == 1, what="the detector to start")
    scheduler.offer("cam-1", image_of(1, 1))
    others = [scheduler.offer(f"cam-{n}", image_of(n)) for n in (2, 3, 4)]
    for frame in range(2, 5):

        def started(count: int = frame) -> bool:
            return slow.inside == count

        slow.allow()
        wait_until(started, what="the next frame in the detector")
        scheduler.offer("cam-1", image_of(1, frame))

    slow.allow(10)
    assert all(ticket.wait(10) is not None for ticket in others)
    wait_until(lambda: len(slow.served) == 5, what="cam-1's newest frame")
    # first come would serve cam-1 again at once; in turn, every other camera goes first
    assert slow.served == [(1, 0), (2, 0), (3, 0), (4, 0), (1, 4)]
    assert scheduler.stats("cam-1").skipped == 3


def test_a_detector_error_reaches_the_camera_that_offered_the_frame() -> None:
    class FakeBrokenDetector:
        class_names = ("thing",)

        def detect(self, image: NDArray[np.uint8]) -> Detections:
            raise RuntimeError("the model choked")

    scheduler = DetectionScheduler([FakeBrokenDetector()])
    scheduler.start()
    try:
        with pytest.raises(RuntimeError, match="choked"):
            scheduler.detect("cam-1", image_of(1))
        assert scheduler.stats("cam-1").served == 1
    finally:
        scheduler.close()


def test_close_answers_waiting_frames_with_none_and_refuses_new_ones(
    slow: FakeSlowDetector, scheduler: DetectionScheduler
) -> None:
    taken = scheduler.offer("cam-1", image_of(1))
    wait_until(lambda: slow.inside == 1, what="the detector to start")
    waiting = scheduler.offer("cam-2", image_of(2))

    closer = threading.Thread(target=scheduler.close)
    closer.start()
    assert waiting.wait(10) is None
    assert not waiting.superseded
    slow.allow()
    closer.join(10)

    assert taken.wait(10) is not None  # the frame in the detector is finished
    with pytest.raises(SchedulerClosedError):
        scheduler.offer("cam-1", image_of(1))


def test_each_detector_instance_serves_in_its_own_thread_side_by_side() -> None:
    first, second = FakeSlowDetector(), FakeSlowDetector()
    scheduler = DetectionScheduler([first, second])
    scheduler.start()
    try:
        tickets = [scheduler.offer(f"cam-{n}", image_of(n)) for n in (1, 2)]
        # both frames are in a detector at once: neither waits for the other to finish
        wait_until(lambda: first.inside == 1 and second.inside == 1, what="both detectors busy")
        first.allow()
        second.allow()
        assert all(ticket.wait(10) is not None for ticket in tickets)
        assert sorted(first.served + second.served) == [(1, 0), (2, 0)]
    finally:
        first.allow(100)
        second.allow(100)
        scheduler.close()


def test_threads_per_worker_split_the_model_threads() -> None:
    assert SchedulerConfig().workers == 2
    assert SchedulerConfig(workers=2).threads_per_worker(2) == 1
    assert SchedulerConfig(workers=1).threads_per_worker(2) == 2
    assert SchedulerConfig(workers=4).threads_per_worker(2) == 1
