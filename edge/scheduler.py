"""DetectionScheduler: one detector shared by every camera, served round robin, never queued.

The detector is one model, loaded once per detector thread: on a small CPU two single-threaded
sessions side by side do about half as much again as one session with two threads (measured on
the kitchen model: 71-87 against 51-53 runs per second on 2 cores), so SchedulerConfig.workers
instances split the model's threads between them.

Each camera has one slot holding its newest offered frame. The detector threads serve the cameras
with a waiting frame in turn (round robin from the camera after the last one served), so a busy
camera cannot starve a quiet one. A camera that offers a frame while its previous one still waits
replaces it: the replaced frame is skipped (counted per camera, its ticket answers None), never
queued behind the others. A camera pipeline offers and waits (`detect`), so while it waits its
source keeps only the newest picture: frames are dropped at the source, not stacked up here.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from detector.detections import Detections, Detector
from edge.metrics import Histogram, HistogramSnapshot
from edge.regions import Region, RegionConfig, detect_regions

logger = logging.getLogger(__name__)


class SchedulerConfig(BaseModel):
    """The shared detector; `detector:` in the edge config."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: int = Field(
        default=2,
        ge=1,
        le=8,
        description="model instances run side by side, each in its own detector thread",
    )

    def threads_per_worker(self, model_threads: int) -> int:
        """onnxruntime threads of each instance: the model's threads split between them."""
        return max(1, model_threads // self.workers)


class SchedulerClosedError(RuntimeError):
    """A frame was offered after close()."""


class DetectionTicket:
    """The answer to one offered frame: detections, an error, or None when it was not served."""

    __slots__ = ("_detections", "_done", "_error", "_superseded")

    def __init__(self) -> None:
        self._done = threading.Event()
        self._detections: Detections | None = None
        self._error: BaseException | None = None
        self._superseded = False

    @property
    def superseded(self) -> bool:
        """Replaced by a newer frame of the same camera before the detector took it."""
        return self._superseded

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> Detections | None:
        """Block until answered; the detections, None if skipped or closed; re-raises errors."""
        if not self._done.wait(timeout_s):
            raise TimeoutError(f"no answer from the detector within {timeout_s}s")
        if self._error is not None:
            raise self._error
        return self._detections

    def _resolve(self, detections: Detections) -> None:
        self._detections = detections
        self._done.set()

    def _fail(self, error: BaseException) -> None:
        self._error = error
        self._done.set()

    def _drop(self, *, superseded: bool) -> None:
        self._superseded = superseded
        self._done.set()


@dataclass(frozen=True, slots=True)
class _Request:
    camera_id: str
    image: NDArray[np.uint8]
    regions: tuple[Region, ...]
    ticket: DetectionTicket
    offered_s: float  # monotonic


@dataclass(slots=True)
class _Lane:
    """What the scheduler knows of one camera."""

    latency: Histogram = field(default_factory=Histogram)
    wait: Histogram = field(default_factory=Histogram)
    offered: int = 0
    served: int = 0
    skipped: int = 0
    inferences: int = 0


@dataclass(frozen=True, slots=True)
class LaneStats:
    offered: int
    served: int  # answered with detections or an error
    skipped: int  # replaced by a newer frame before being served
    inferences: int  # detector runs, one per region
    latency: HistogramSnapshot  # seconds in the detector per served frame
    wait: HistogramSnapshot  # seconds a served frame waited for its turn


class DetectionScheduler:
    """Shares the detector (one instance per thread) between cameras fairly; see the module."""

    def __init__(
        self,
        detectors: Sequence[Detector],
        *,
        regions: RegionConfig | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not detectors:
            raise ValueError("the scheduler needs at least one detector")
        self._detectors = tuple(detectors)  # instances of one model, one thread each
        self._regions = regions or RegionConfig()
        self._monotonic = monotonic
        self._condition = threading.Condition()
        self._waiting: dict[str, _Request] = {}
        self._lanes: dict[str, _Lane] = {}
        self._order: list[str] = []  # round robin order: cameras in the order they were added
        self._next = 0  # where in _order the next search for a waiting camera starts
        self._closed = False
        self._threads: list[threading.Thread] = []

    def add_camera(self, camera_id: str) -> None:
        """Give a camera its place in the round robin (offer() adds unknown cameras too)."""
        with self._condition:
            self._lane(camera_id)

    def start(self) -> None:
        with self._condition:
            if self._threads or self._closed:
                return
            self._threads = [
                threading.Thread(
                    target=self._serve, args=(detector,), name=f"detector-{n}", daemon=True
                )
                for n, detector in enumerate(self._detectors)
            ]
        for thread in self._threads:
            thread.start()

    def offer(
        self, camera_id: str, image: NDArray[np.uint8], regions: Sequence[Region] = ()
    ) -> DetectionTicket:
        """Put a camera's newest frame in its slot; a frame still waiting there is skipped."""
        ticket = DetectionTicket()
        with self._condition:
            if self._closed:
                raise SchedulerClosedError("the detection scheduler is closed")
            lane = self._lane(camera_id)
            lane.offered += 1
            replaced = self._waiting.pop(camera_id, None)
            if replaced is not None:
                lane.skipped += 1
                replaced.ticket._drop(superseded=True)
            self._waiting[camera_id] = _Request(
                camera_id, image, tuple(regions), ticket, self._monotonic()
            )
            self._condition.notify()
        return ticket

    def detect(
        self, camera_id: str, image: NDArray[np.uint8], regions: Sequence[Region] = ()
    ) -> Detections | None:
        """Offer and wait for the answer; None when skipped or closed meanwhile."""
        return self.offer(camera_id, image, regions).wait()

    def stats(self, camera_id: str) -> LaneStats:
        with self._condition:
            lane = self._lanes.get(camera_id) or _Lane()
            return LaneStats(
                offered=lane.offered,
                served=lane.served,
                skipped=lane.skipped,
                inferences=lane.inferences,
                latency=lane.latency.snapshot(),
                wait=lane.wait.snapshot(),
            )

    def waiting(self) -> int:
        """Frames waiting for the detector now (at most one per camera)."""
        with self._condition:
            return len(self._waiting)

    def close(self, *, join_timeout_s: float = 10.0) -> None:
        """Stop serving; frames still waiting are answered None; join the detector threads."""
        with self._condition:
            self._closed = True
            for request in self._waiting.values():
                request.ticket._drop(superseded=False)
            self._waiting.clear()
            self._condition.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(join_timeout_s)
                if thread.is_alive():
                    logger.warning("detector thread did not stop thread=%s", thread.name)

    def _lane(self, camera_id: str) -> _Lane:
        lane = self._lanes.get(camera_id)
        if lane is None:
            lane = self._lanes[camera_id] = _Lane()
            self._order.append(camera_id)
        return lane

    def _take(self) -> _Request | None:
        """The next camera's waiting frame in round robin order; None once closed."""
        with self._condition:
            self._condition.wait_for(lambda: self._closed or bool(self._waiting))
            if self._closed:
                return None
            count = len(self._order)
            for step in range(count):
                position = (self._next + step) % count
                request = self._waiting.pop(self._order[position], None)
                if request is not None:
                    self._next = (position + 1) % count
                    return request
            raise AssertionError("a waiting frame of a camera outside the round robin")

    def _serve(self, detector: Detector) -> None:
        while (request := self._take()) is not None:
            started_s = self._monotonic()
            try:
                detections = detect_regions(
                    detector, request.image, request.regions, config=self._regions
                )
            except Exception as err:  # the caller's pipeline counts and logs it
                request.ticket._fail(err)
                detections = None
            elapsed_s = self._monotonic() - started_s
            with self._condition:
                lane = self._lanes[request.camera_id]
                lane.served += 1
                lane.inferences += max(1, len(request.regions))
            lane.latency.observe(elapsed_s)
            lane.wait.observe(started_s - request.offered_s)
            if detections is not None:
                request.ticket._resolve(detections)
