"""The edge runtime: a thread per camera samples frames, a shared detector, rules, and publishing.

Each camera thread takes the newest frame its source yields, keeps one every 1 / detect_fps
seconds of captured_at (the rest are counted as skipped), runs the one shared detector under a
first-come-first-served lock, evaluates the rules and publishes each violation. A frame that fails
(detector or rule error) is logged and the loop goes on. Camera state comes from the sources'
listeners (on_source_state); the edge status is published on every change and every
status_interval_s.
"""

import logging
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType

from contracts import (
    CameraState,
    CameraStatus,
    EdgeState,
    EdgeStatus,
    NormalizedBox,
    ViolationEvent,
)
from detector.detections import Detector
from edge.config import EdgeConfig
from edge.publisher import EventPublisher
from edge.rules import Rule, build_rules
from edge.violation import Violation
from streams.frame import Frame, FrameSource, SourceState

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_BOXES = 256  # the contract's limit per event; the most confident are kept


def utc_now() -> datetime:
    return datetime.now(UTC)


class FairLock:
    """A ticket lock: threads get it in the order they asked, so no camera starves the others."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._condition:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._condition.wait_for(lambda: self._serving == ticket)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._condition:
            self._serving += 1
            self._condition.notify_all()


@dataclass(frozen=True, slots=True)
class CameraCounters:
    frames: int = 0  # yielded by the source
    skipped: int = 0  # arrived sooner than 1 / detect_fps after the last sampled one
    processed: int = 0  # detected and evaluated
    failed: int = 0  # detector or rule raised
    violations: int = 0


class EdgeWorker:
    def __init__(
        self,
        config: EdgeConfig,
        sources: Mapping[str, FrameSource],
        detector: Detector,
        publisher: EventPublisher,
        clock: Clock = utc_now,
        *,
        rules: Sequence[Rule] | None = None,
        join_timeout_s: float = 10.0,
    ) -> None:
        enabled = {camera.id: camera for camera in config.enabled_cameras}
        if set(sources) != set(enabled):
            raise ValueError(
                f"sources {sorted(sources)} do not match the enabled cameras {sorted(enabled)}"
            )
        self._config = config
        self._sources = dict(sources)
        self._detector = detector
        self._publisher = publisher
        self._clock = clock
        self._rules = build_rules(config) if rules is None else tuple(rules)
        self._join_timeout_s = join_timeout_s
        self._intervals = {
            camera_id: timedelta(seconds=1.0 / camera.detect_fps)
            for camera_id, camera in enabled.items()
        }
        self._detector_lock = FairLock()
        self._lock = threading.Lock()  # guards the two dicts below
        started_at = clock()
        self._cameras = {
            camera_id: CameraStatus(state=CameraState.STARTING, since=started_at)
            for camera_id in enabled
        }
        self._counters = {camera_id: CameraCounters() for camera_id in enabled}

    def on_source_state(self, camera_id: str, state: SourceState) -> None:
        """A StateListener for the sources: record the camera's state and publish the status."""
        new_state = CameraState(state.value)
        with self._lock:
            current = self._cameras.get(camera_id)
            if current is None or current.state == new_state:
                return
            self._cameras[camera_id] = CameraStatus(state=new_state, since=self._clock())
        logger.info("camera state camera=%s state=%s", camera_id, new_state.value)
        self._publish_status()

    def status(self) -> EdgeStatus:
        with self._lock:
            cameras = dict(self._cameras)
        return EdgeStatus(
            site=self._config.site,
            edge=self._config.edge,
            state=EdgeState.ONLINE,
            reported_at=self._clock(),
            cameras=cameras,
        )

    def counters(self, camera_id: str) -> CameraCounters:
        with self._lock:
            return self._counters[camera_id]

    def run_until(self, stop: threading.Event) -> None:
        """Run every camera until `stop` is set, then close the sources and join the threads."""
        self._warn_unknown_labels()
        threads = [
            threading.Thread(
                target=self._camera_loop,
                args=(camera_id, source, stop),
                name=f"camera-{camera_id}",
                daemon=True,
            )
            for camera_id, source in self._sources.items()
        ]
        for thread in threads:
            thread.start()
        logger.info(
            "edge running site=%s edge=%s cameras=%d rules=%d",
            self._config.site,
            self._config.edge,
            len(threads),
            len(self._rules),
        )
        self._publish_status()
        while not stop.wait(self._config.status_interval_s):
            self._publish_status()
            for camera_id in self._sources:
                counters = self.counters(camera_id)
                logger.debug(
                    "camera counters camera=%s frames=%d skipped=%d processed=%d failed=%d",
                    camera_id,
                    counters.frames,
                    counters.skipped,
                    counters.processed,
                    counters.failed,
                )
        logger.info("edge stopping")
        # in parallel: a source may wait for its reader (up to its stall timeout) to close
        closers = [
            threading.Thread(target=self._close_source, args=(camera_id, source), daemon=True)
            for camera_id, source in self._sources.items()
        ]
        for closer in closers:
            closer.start()
        for thread in closers + threads:
            thread.join(timeout=self._join_timeout_s)
            if thread.is_alive():
                logger.warning("thread did not stop thread=%s", thread.name)

    def _close_source(self, camera_id: str, source: FrameSource) -> None:
        try:
            source.close()
        except Exception:
            logger.exception("closing the source failed camera=%s", camera_id)

    def _warn_unknown_labels(self) -> None:
        known = set(self._detector.class_names)
        for rule in self._config.rules:
            if known and rule.label not in known:
                logger.warning(
                    "rule label not among the model's classes rule=%s label=%s classes=%s",
                    rule.id,
                    rule.label,
                    ",".join(sorted(known)),
                )

    def _camera_loop(self, camera_id: str, source: FrameSource, stop: threading.Event) -> None:
        next_due: datetime | None = None
        failing = False
        retry_s = 1.0
        while not stop.is_set():
            try:
                for frame in source.frames():
                    if stop.is_set():
                        return
                    due, next_due = self._sample(camera_id, frame.captured_at, next_due)
                    self._count(camera_id, frames=1, skipped=0 if due else 1)
                    if due:
                        failing = self._process(camera_id, frame, failing=failing)
                    retry_s = 1.0
                if not stop.is_set():
                    logger.warning("camera source ended camera=%s", camera_id)
                return
            except Exception:
                logger.exception(
                    "camera source failed camera=%s retry_in_s=%.1f", camera_id, retry_s
                )
                stop.wait(retry_s)
                retry_s = min(retry_s * 2.0, 30.0)

    def _sample(
        self, camera_id: str, captured_at: datetime, next_due: datetime | None
    ) -> tuple[bool, datetime | None]:
        """Whether this frame is due, and when the next one is: a steady 1 / detect_fps cadence."""
        interval = self._intervals[camera_id]
        if next_due is not None and captured_at < next_due and next_due - captured_at <= interval:
            return False, next_due
        if next_due is not None and timedelta(0) <= captured_at - next_due < interval:
            return True, next_due + interval  # on schedule: keep the cadence
        return True, captured_at + interval  # first frame, a gap, or the clock went back

    def _process(self, camera_id: str, frame: Frame, *, failing: bool) -> bool:
        """Detect, evaluate and publish one frame; return whether it failed."""
        try:
            with self._detector_lock:
                detections = self._detector.detect(frame.image)
            violations = [
                violation for rule in self._rules for violation in rule.evaluate(frame, detections)
            ]
        except Exception:
            self._count(camera_id, failed=1)
            if not failing:
                logger.exception("frame failed camera=%s index=%d", camera_id, frame.index)
            return True
        if failing:
            logger.info("frames recovered camera=%s index=%d", camera_id, frame.index)
        self._count(camera_id, processed=1, violations=len(violations))
        for violation in violations:
            self._publish_violation(violation)
        return False

    def _publish_violation(self, violation: Violation) -> None:
        event = to_event(violation, site=self._config.site, edge=self._config.edge)
        logger.info(
            "violation created id=%s camera=%s rule=%s kind=%s confidence=%.2f",
            event.violation_id,
            event.camera,
            event.rule,
            event.kind.value,
            event.confidence,
        )
        try:
            self._publisher.publish_violation(event)
        except Exception:
            logger.exception("publishing failed id=%s", event.violation_id)

    def _publish_status(self) -> None:
        try:
            self._publisher.publish_status(self.status())
        except Exception:
            logger.exception("publishing the status failed")

    def _count(
        self,
        camera_id: str,
        *,
        frames: int = 0,
        skipped: int = 0,
        processed: int = 0,
        failed: int = 0,
        violations: int = 0,
    ) -> None:
        with self._lock:
            counters = self._counters[camera_id]
            self._counters[camera_id] = replace(
                counters,
                frames=counters.frames + frames,
                skipped=counters.skipped + skipped,
                processed=counters.processed + processed,
                failed=counters.failed + failed,
                violations=counters.violations + violations,
            )


def to_event(violation: Violation, *, site: str, edge: str) -> ViolationEvent:
    """The wire form of a violation, with a fresh violation_id (the API dedupes on it)."""
    boxes = sorted(violation.boxes, key=lambda box: box.confidence, reverse=True)[:MAX_BOXES]
    return ViolationEvent(
        violation_id=uuid.uuid4(),
        site=site,
        edge=edge,
        camera=violation.camera_id,
        rule=violation.rule_id,
        kind=violation.kind,
        severity=violation.severity,
        confidence=violation.confidence,
        boxes=tuple(
            NormalizedBox(
                label=box.label,
                confidence=box.confidence,
                x1=box.x1,
                y1=box.y1,
                x2=box.x2,
                y2=box.y2,
            )
            for box in boxes
        ),
        zone=violation.zone_id,
        occurred_at=violation.occurred_at,
        has_snapshot=False,
    )
