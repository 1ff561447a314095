"""KitchenRuntime: the kitchen rule engines of every camera, wired to frames, time and the outbox.

The worker feeds it from several threads: on_frame (a frame hook, the camera's thread) and
on_outcome (an outcome hook: detected frames only, with their motion boxes), on_source_state (the
sources' listener), tick (the worker's status loop, about once a second) and close (shutdown).
Each engine has its own lock, so a tick never races a frame of the same camera; the incident
events an engine returns are handled under that lock, so each camera's START and END messages
reach the publisher in order. At a START the evidence recorder (when there is one) gets the
newest frame of the camera under the incident id, which is also the published violation_id
(camera_offline has no picture to keep).
"""

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from contracts import CameraState, ViolationEnd, ViolationEvent, ViolationKind
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.health import CameraHealthState
from edge.kitchen.incidents import IncidentEvent, IncidentPhase
from edge.kitchen.messages import violation_end, violation_event
from edge.pipeline import FrameOutcome
from edge.violation import Box
from streams.frame import Frame, SourceState

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class Recorder(Protocol):
    """What the runtime needs of the evidence recorder (edge.evidence.recorder.EvidenceRecorder)."""

    def record(self, violation_id: UUID, frame: Frame, boxes: Sequence[Box]) -> bool: ...


class IncidentPublisher(Protocol):
    def publish_violation(self, event: ViolationEvent) -> None: ...

    def publish_violation_end(self, end: ViolationEnd) -> None: ...


@dataclass(frozen=True, slots=True)
class Identity:
    site: str
    edge: str


class _Camera:
    def __init__(self, engine: KitchenRuleEngine) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.latest: Frame | None = None


class KitchenRuntime:
    def __init__(
        self,
        engines: Mapping[str, KitchenRuleEngine],
        publisher: IncidentPublisher,
        identity: Identity,
        *,
        clock: Clock,
        recorder: Recorder | None = None,
    ) -> None:
        self._cameras = {camera_id: _Camera(engine) for camera_id, engine in engines.items()}
        self._publisher = publisher
        self._identity = identity
        self._clock = clock
        self._recorder = recorder

    def on_frame(self, frame: Frame) -> None:
        camera = self._cameras.get(frame.camera_id)
        if camera is None:
            return
        with camera.lock:
            camera.latest = frame
            self._handle(camera, camera.engine.observe_frame(frame.captured_at, frame.image))

    def on_outcome(self, outcome: FrameOutcome) -> None:
        """Detected frames only: the engine's tracker wants fresh detections, not carried ones."""
        frame = outcome.frame
        camera = self._cameras.get(frame.camera_id)
        if camera is None or outcome.reason is None:
            return
        motion = None if outcome.motion is None else outcome.motion.xyxy.astype("float32")
        with camera.lock:
            events = camera.engine.update(
                frame.captured_at,
                outcome.detections,
                width=frame.width,
                height=frame.height,
                motion=motion,
            )
            self._handle(camera, events)

    def on_source_state(self, camera_id: str, state: SourceState) -> None:
        camera = self._cameras.get(camera_id)
        if camera is None:
            return
        with camera.lock:
            self._handle(camera, camera.engine.on_source_state(self._clock(), state))

    def tick(self, now: datetime) -> None:
        for camera in self._cameras.values():
            with camera.lock:
                self._handle(camera, camera.engine.tick(now))

    def close(self, now: datetime) -> None:
        """End every open incident (reason shutdown) and publish the ends."""
        for camera in self._cameras.values():
            with camera.lock:
                self._handle(camera, camera.engine.close(now))

    def has_active_tracks(self, camera_id: str) -> bool:
        camera = self._cameras.get(camera_id)
        if camera is None:
            return False
        with camera.lock:
            return camera.engine.has_active_tracks

    def wants_detection_fps(self, camera_id: str) -> float | None:
        camera = self._cameras.get(camera_id)
        if camera is None:
            return None
        with camera.lock:
            return camera.engine.wants_detection_fps

    def camera_state(self, camera_id: str, now: datetime) -> CameraState | None:
        """FROZEN or BLURRED_OR_COVERED when the health rules say so; None otherwise."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return None
        with camera.lock:
            state = camera.engine.health_state(now)
        if state in (CameraHealthState.FROZEN, CameraHealthState.BLURRED_OR_COVERED):
            return CameraState(state.value)
        return None

    def _handle(self, camera: _Camera, events: list[IncidentEvent]) -> None:
        for event in events:
            try:
                if event.phase is IncidentPhase.START:
                    self._start(camera, event)
                elif event.phase is IncidentPhase.END:
                    self._end(event)
            except Exception:
                logger.exception(
                    "publishing an incident failed id=%s phase=%s",
                    event.incident_id,
                    event.phase.value,
                )

    def _start(self, camera: _Camera, event: IncidentEvent) -> None:
        has_snapshot = has_clip = False
        frame = camera.latest
        if (
            self._recorder is not None
            and frame is not None
            and event.kind is not ViolationKind.CAMERA_OFFLINE
        ):
            # the snapshot is always made; the clip only while the recorder has room
            has_clip = self._recorder.record(event.incident_id, frame, event.boxes)
            has_snapshot = True
        message = violation_event(
            event,
            site=self._identity.site,
            edge=self._identity.edge,
            has_snapshot=has_snapshot,
            has_clip=has_clip,
        )
        logger.info(
            "incident started id=%s camera=%s rule=%s kind=%s snapshot=%s clip=%s",
            event.incident_id,
            event.camera_id,
            event.rule_id,
            event.kind.value,
            has_snapshot,
            has_clip,
        )
        self._publisher.publish_violation(message)

    def _end(self, event: IncidentEvent) -> None:
        end = violation_end(event, site=self._identity.site, edge=self._identity.edge)
        logger.info(
            "incident ended id=%s camera=%s duration_s=%.1f reason=%s",
            event.incident_id,
            event.camera_id,
            end.duration_s,
            None if event.end_reason is None else event.end_reason.value,
        )
        self._publisher.publish_violation_end(end)
