"""The edge runtime: a thread per camera runs its CameraPipeline; one detector serves them all.

Each camera thread takes the newest frame its source yields and hands it to its CameraPipeline
(edge/pipeline.py: frame hooks, sampling at detect_fps, motion gating, regions, detection, rules,
publishing, outcome hooks). The pipelines share one DetectionScheduler (edge/scheduler.py), which
runs the detector for the cameras in turn and skips, never queues, what it cannot keep up with.
A frame that fails (detector or rule error) is counted and logged and the loop goes on. Camera
state comes from the sources' listeners (on_source_state); the edge status is published on every
change and every status_interval_s. camera_snapshots() feeds the metrics (edge/metrics.py).

With a `kitchen` config section the worker runs the kitchen rule engines (edge/incident_runtime.py):
every frame read and every detected frame feed them, their tracks drive detection (active_tracks,
wanted_fps), the status loop ticks them about once a second, their incidents go to the publisher
as ViolationEvent (START) and ViolationEnd (END), and frozen or blurred/covered cameras show in the
edge status. The generic `rules:` run beside them. With an evidence recorder every violation's
snapshot and clip are recorded under its published violation_id.
"""

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from contracts import CameraState, CameraStatus, EdgeState, EdgeStatus
from detector.detections import Detector
from edge.camera_states import CameraStates
from edge.config import EdgeConfig
from edge.incident_runtime import Identity, KitchenRuntime, Recorder
from edge.kitchen.build import build_kitchen_rules
from edge.metrics import CameraSnapshot
from edge.motion import MotionConfig
from edge.pipeline import (
    ActiveTracks,
    CameraCounters,
    CameraPipeline,
    FrameHook,
    FrameOutcome,
    OutcomeHook,
    WantedFps,
)
from edge.publisher import EventPublisher
from edge.regions import RegionConfig
from edge.rules import Rule, build_rules
from edge.scheduler import DetectionScheduler
from edge.violation import Violation, to_event
from streams.frame import FrameSource, SourceState

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
TICK_S = 1.0  # how often the kitchen rules are advanced without frames


def utc_now() -> datetime:
    return datetime.now(UTC)


@runtime_checkable
class SizedDetector(Protocol):
    """A detector that knows its input size (OnnxDetector): crops are cut at that size."""

    @property
    def input_size(self) -> tuple[int, int]: ...


class EdgeWorker:
    """Runs every enabled camera through its pipeline until stopped.

    Without `motion` every sampled frame is detected on the whole frame (the skeleton's
    behaviour); with it, detection is gated by motion and runs on regions (edge/pipeline.py).
    spare_detectors are more instances of the detector's model: each gets a detector thread of its
    own (SchedulerConfig.workers - 1 of them, edge/scheduler.py).
    The seams for the rule engine, the evidence ring buffer, the preview and camera health:
    active_tracks and wanted_fps (asked per camera before each frame), frame_hooks (every frame
    read, in the camera's thread) and outcome_hooks (every sampled frame after the rules).
    """

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
        motion: MotionConfig | None = None,
        regions: RegionConfig | None = None,
        spare_detectors: Sequence[Detector] = (),
        active_tracks: ActiveTracks | None = None,
        wanted_fps: WantedFps | None = None,
        frame_hooks: Sequence[FrameHook] = (),
        outcome_hooks: Sequence[OutcomeHook] = (),
        monotonic: Callable[[], float] = time.monotonic,
        recorder: Recorder | None = None,
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
        self._monotonic = monotonic
        self._rules = build_rules(config) if rules is None else tuple(rules)
        self._join_timeout_s = join_timeout_s
        region_config = regions or RegionConfig()
        self._scheduler = DetectionScheduler(
            (detector, *spare_detectors), regions=region_config, monotonic=monotonic
        )
        region_size_px = min(detector.input_size) if isinstance(detector, SizedDetector) else None
        self._recorder = recorder
        self._kitchen: KitchenRuntime | None = None
        if config.kitchen is not None:
            engines = build_kitchen_rules(
                config.kitchen, config.enabled_cameras, started_at=clock()
            )
            self._kitchen = KitchenRuntime(
                engines,
                publisher,
                Identity(site=config.site, edge=config.edge),
                clock=clock,
                recorder=recorder,
            )
            # after the given hooks: the recorder's ring holds a frame before an incident needs it
            frame_hooks = (*frame_hooks, self._kitchen.on_frame)
            outcome_hooks = (*outcome_hooks, self._kitchen.on_outcome)
            active_tracks = active_tracks or self._kitchen.has_active_tracks
            wanted_fps = wanted_fps or self._kitchen.wants_detection_fps
        if recorder is not None and self._rules:
            outcome_hooks = (*outcome_hooks, self._record_violations)
        self._pipelines = {
            camera_id: CameraPipeline(
                camera_id,
                detect_fps=camera.detect_fps,
                scheduler=self._scheduler,
                rules=self._rules,
                publish=self._publish_violation,
                class_names=detector.class_names,
                motion=motion,
                regions=region_config,
                region_size_px=region_size_px,
                active_tracks=active_tracks,
                wanted_fps=wanted_fps,
                keepalive_offset_s=(
                    0.0 if motion is None else motion.keepalive_s * number / len(enabled)
                ),
                frame_hooks=frame_hooks,
                outcome_hooks=outcome_hooks,
                monotonic=monotonic,
            )
            for number, (camera_id, camera) in enumerate(enabled.items())
        }
        for camera_id in enabled:
            self._scheduler.add_camera(camera_id)
        self._states = CameraStates(enabled, started_at=clock())

    def on_source_state(self, camera_id: str, state: SourceState) -> None:
        """A StateListener for the sources: record the camera's state and publish the status."""
        if not self._states.set_source_state(camera_id, CameraState(state.value), self._clock()):
            return
        logger.info("camera state camera=%s state=%s", camera_id, state.value)
        if self._kitchen is not None:
            self._kitchen.on_source_state(camera_id, state)
        self._publish_status()

    def _camera_statuses(self) -> dict[str, CameraStatus]:
        return self._states.statuses()

    def _tick(self) -> bool:
        """Advance the kitchen rules to now; whether a camera's health state changed."""
        if self._kitchen is None:
            return False
        now = self._clock()
        self._kitchen.tick(now)
        changed = False
        for camera_id in self._states.camera_ids:
            state = self._kitchen.camera_state(camera_id, now)
            if self._states.set_health(camera_id, state, now):
                changed = True
                logger.info(
                    "camera health camera=%s state=%s",
                    camera_id,
                    "ok" if state is None else state.value,
                )
        return changed

    def status(self) -> EdgeStatus:
        cameras = self._camera_statuses()
        return EdgeStatus(
            site=self._config.site,
            edge=self._config.edge,
            state=EdgeState.ONLINE,
            reported_at=self._clock(),
            cameras=cameras,
        )

    def counters(self, camera_id: str) -> CameraCounters:
        return self._pipelines[camera_id].counters

    def camera_snapshots(self) -> list[CameraSnapshot]:
        """Per camera figures for the metrics endpoint."""
        now_s = self._monotonic()
        states = {
            camera_id: status.state.value for camera_id, status in self._camera_statuses().items()
        }
        snapshots = []
        for camera_id, pipeline in self._pipelines.items():
            counters = pipeline.counters
            lane = self._scheduler.stats(camera_id)
            snapshots.append(
                CameraSnapshot(
                    camera_id=camera_id,
                    state=states[camera_id],
                    frames_read=counters.read,
                    frames_detected=counters.detected,
                    frames_processed=counters.processed,
                    skipped_sampling=counters.skipped,
                    skipped_busy=counters.skipped_busy + lane.skipped,
                    failed=counters.failed,
                    violations=counters.violations,
                    inferences=lane.inferences,
                    read_fps=pipeline.read_rate.rate(now_s),
                    detect_fps=pipeline.detect_rate.rate(now_s),
                    detector_latency=lane.latency,
                    detector_wait=lane.wait,
                )
            )
        return snapshots

    def run_until(self, stop: threading.Event) -> None:
        """Run every camera until `stop` is set, then close the sources and join the threads."""
        self._warn_unknown_labels()
        self._scheduler.start()
        threads = [
            threading.Thread(
                target=self._camera_loop,
                args=(self._pipelines[camera_id], source, stop),
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
        interval_s = self._config.status_interval_s
        tick_s = interval_s if self._kitchen is None else min(TICK_S, interval_s)
        next_status_s = self._monotonic() + interval_s
        while not stop.wait(tick_s):
            health_changed = self._tick()
            if not health_changed and self._monotonic() < next_status_s:
                continue
            next_status_s = self._monotonic() + interval_s
            self._publish_status()
            for camera_id in self._sources:
                counters = self.counters(camera_id)
                logger.debug(
                    "camera counters camera=%s frames=%d skipped=%d skipped_busy=%d"
                    " detected=%d processed=%d failed=%d",
                    camera_id,
                    counters.frames,
                    counters.skipped,
                    counters.skipped_busy,
                    counters.detected,
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
        self._scheduler.close(join_timeout_s=self._join_timeout_s)  # answers waiting cameras
        for thread in closers + threads:
            thread.join(timeout=self._join_timeout_s)
            if thread.is_alive():
                logger.warning("thread did not stop thread=%s", thread.name)
        if self._kitchen is not None:
            self._kitchen.close(self._clock())  # open incidents end (reason shutdown)

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

    def _camera_loop(
        self, pipeline: CameraPipeline, source: FrameSource, stop: threading.Event
    ) -> None:
        camera_id = pipeline.camera_id
        retry_s = 1.0
        while not stop.is_set():
            try:
                for frame in source.frames():
                    if stop.is_set():
                        return
                    pipeline.handle(frame)
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

    def _record_violations(self, outcome: FrameOutcome) -> None:
        assert self._recorder is not None
        for violation in outcome.violations:
            self._recorder.record(violation.violation_id, outcome.frame, violation.boxes)

    def _publish_violation(self, violation: Violation) -> None:
        event = to_event(
            violation,
            site=self._config.site,
            edge=self._config.edge,
            has_evidence=self._recorder is not None,
        )
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
