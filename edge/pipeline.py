"""CameraPipeline: what happens to each frame of one camera, step by step.

    frame hooks -> sample -> motion -> decide detect -> regions -> detect -> rules -> publish
    -> outcome hooks

- frame hooks (ring buffer, preview, camera health) get every frame taken from the source.
- sample: one frame every 1 / detect_fps seconds of captured_at (or at the higher rate the rule
  engine asks for now, wanted_fps); the others are skipped (reason "sampling"). Due frames lost
  because the pipeline was busy (the source dropped them while the detector was working for this
  camera or the others) are skipped with reason "busy".
- motion and decide: without motion gating every sampled frame is detected. With it, the
  detector runs when something moved, while the rule engine has an active track on the camera
  (active_tracks), and every keepalive_s otherwise. A keep-alive gives way: when other cameras'
  frames wait for the detector it is put off to a later sampled frame (up to another keepalive_s),
  and cameras start at staggered phases (keepalive_offset_s), so that the keep-alives of many
  quiet cameras do not arrive at once and hold up a camera where something moves.
- regions: crops around the motion (and, with active tracks, around the known objects); for
  keep-alives the whole frame, plus the known objects again at full resolution when the frame is
  much larger than the model's input (RegionConfig.recheck_factor; edge/regions.py).
- detect: through the shared DetectionScheduler (fair between cameras).
- rules: every sampled frame is evaluated. A frame not detected carries over the camera's known
  objects: a still scene has not changed, so a stationary violation keeps its persistence. After
  a detection on crops, known objects outside the crops are kept and those inside are replaced.
- publish: each violation goes to `publish`; then outcome hooks get the whole FrameOutcome
  (snapshots, clips, a rule engine with its own tracker that wants only detected frames:
  outcome.reason is None for a frame that was not detected).
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from detector.detections import Detections
from edge.metrics import RateMeter
from edge.motion import Motion, MotionConfig, MotionDetector
from edge.regions import (
    Region,
    RegionConfig,
    box_centres,
    concat_detections,
    plan_regions,
)
from edge.rules import Rule
from edge.scheduler import SchedulerClosedError
from edge.violation import Violation
from streams.frame import Frame

logger = logging.getLogger(__name__)

T = TypeVar("T")

ActiveTracks = Callable[[str], bool]
"""The rule engine's answer to "does camera X have an active track now?"."""
WantedFps = Callable[[str], float | None]
"""The rule engine's wanted sampling rate for camera X now (None: its detect_fps)."""
FrameHook = Callable[[Frame], None]
OutcomeHook = Callable[["FrameOutcome"], None]


class SharedDetector(Protocol):
    """What a pipeline needs of the shared detector (DetectionScheduler)."""

    def detect(
        self, camera_id: str, image: NDArray[np.uint8], regions: Sequence[Region] = ()
    ) -> Detections | None: ...

    def waiting(self) -> int: ...


class DetectReason(StrEnum):
    ALWAYS = "always"  # no motion gating
    MOTION = "motion"
    TRACKS = "tracks"
    KEEPALIVE = "keepalive"


@dataclass(frozen=True, slots=True)
class FrameOutcome:
    """One sampled frame after the rules: what the outcome hooks receive."""

    frame: Frame
    detections: Detections  # the camera's known objects in this frame (fresh or carried)
    reason: DetectReason | None  # why the detector ran; None: it did not (carried over)
    regions: tuple[Region, ...]  # where it ran; () for the whole frame or not at all
    motion: Motion | None  # None without motion gating
    violations: tuple[Violation, ...]


@dataclass(frozen=True, slots=True)
class CameraCounters:
    frames: int = 0  # taken from the source
    read: int = 0  # decoded by the source (frame index steps), taken or not
    skipped: int = 0  # not due at the detect fps (reason "sampling")
    skipped_busy: int = 0  # due, but lost while the edge was busy (reason "busy")
    processed: int = 0  # sampled frames evaluated by the rules
    detected: int = 0  # sampled frames the detector ran on
    failed: int = 0  # detection or a rule raised
    violations: int = 0


class Sampler:
    """A steady 1 / detect_fps cadence over captured_at (faster while a higher rate is asked)."""

    def __init__(self, detect_fps: float) -> None:
        if detect_fps <= 0:
            raise ValueError(f"detect_fps must be positive, got {detect_fps}")
        self._interval = timedelta(seconds=1.0 / detect_fps)
        self._next_due: datetime | None = None

    def sample(self, captured_at: datetime, *, fps: float | None = None) -> tuple[bool, int]:
        """Whether this frame is due, and how many due instants passed before it with no frame.

        fps, when given and above detect_fps, is the rate wanted for now (a rule following a
        rodent); the cadence switches to it at once.
        """
        interval = self._interval
        if fps is not None and fps > 0 and timedelta(seconds=1.0 / fps) < interval:
            interval = timedelta(seconds=1.0 / fps)
        next_due = self._next_due
        if next_due is not None and captured_at < next_due and next_due - captured_at <= interval:
            return False, 0
        if next_due is not None and timedelta(0) <= captured_at - next_due < interval:
            self._next_due = next_due + interval  # on schedule: keep the cadence
            return True, 0
        missed = 0
        if next_due is not None and captured_at >= next_due:
            missed = (captured_at - next_due) // interval
        self._next_due = captured_at + interval  # first frame, a gap, a new rate, clock went back
        return True, int(missed)


class CameraPipeline:
    """One camera's per-frame flow; handle() is called from that camera's thread only."""

    def __init__(
        self,
        camera_id: str,
        *,
        detect_fps: float,
        scheduler: SharedDetector,
        rules: Sequence[Rule],
        publish: Callable[[Violation], None],
        class_names: tuple[str, ...] = (),
        motion: MotionConfig | None = None,
        regions: RegionConfig | None = None,
        region_size_px: int | None = None,
        active_tracks: ActiveTracks | None = None,
        wanted_fps: WantedFps | None = None,
        keepalive_offset_s: float = 0.0,
        frame_hooks: Sequence[FrameHook] = (),
        outcome_hooks: Sequence[OutcomeHook] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.camera_id = camera_id
        self._sampler = Sampler(detect_fps)
        self._scheduler = scheduler
        self._rules = tuple(rules)
        self._publish = publish
        self._motion_config = motion if motion is not None and motion.enabled else None
        self._motion = None if self._motion_config is None else MotionDetector(self._motion_config)
        self._keepalive = (
            None
            if self._motion_config is None
            else timedelta(seconds=self._motion_config.keepalive_s)
        )
        self._regions = regions or RegionConfig()
        self._region_size_px = region_size_px
        self._active_tracks = active_tracks
        self._wanted_fps = wanted_fps
        self._frame_hooks = tuple(frame_hooks)
        self._outcome_hooks = tuple(outcome_hooks)
        self._monotonic = monotonic
        self._known = Detections.empty(class_names)
        self._last_detected_at: datetime | None = None
        self._keepalive_offset = timedelta(seconds=keepalive_offset_s)
        self._last_index: int | None = None
        self._failing = False
        self._failing_hooks: set[int] = set()
        self._lock = threading.Lock()
        self._counters = CameraCounters()
        self.read_rate = RateMeter()
        self.detect_rate = RateMeter()

    @property
    def counters(self) -> CameraCounters:
        with self._lock:
            return self._counters

    def handle(self, frame: Frame) -> FrameOutcome | None:
        """Run one frame through the pipeline; the outcome when it was sampled and evaluated."""
        now_s = self._monotonic()
        lost = self._count_read(frame.index, now_s)
        self._run_hooks(self._frame_hooks, frame)
        fps = None if self._wanted_fps is None else self._wanted_fps(self.camera_id)
        due, missed = self._sampler.sample(frame.captured_at, fps=fps)
        self._count(frames=1, skipped=0 if due else 1, skipped_busy=min(missed, lost))
        if not due:
            return None
        try:
            motion = None if self._motion is None else self._motion.detect(frame.image)
            reason = self._reason(frame, motion)
            regions: tuple[Region, ...] = ()
            if reason is not None:
                regions = self._plan(frame, motion, reason)
                found = self._scheduler.detect(self.camera_id, frame.image, regions)
                if found is None:  # skipped (a newer frame of ours) or shutting down
                    return None
                self._known = self._merge(found, regions, frame)
                # the first detection shifts the keep-alive phase, staggering the cameras
                shift = self._keepalive_offset if self._last_detected_at is None else timedelta(0)
                self._last_detected_at = frame.captured_at - shift
                self.detect_rate.mark(self._monotonic())
            violations = tuple(
                violation for rule in self._rules for violation in rule.evaluate(frame, self._known)
            )
        except SchedulerClosedError:
            return None  # the worker is stopping
        except Exception:
            self._count(failed=1)
            if not self._failing:
                logger.exception("frame failed camera=%s index=%d", self.camera_id, frame.index)
            self._failing = True
            return None
        if self._failing:
            logger.info("frames recovered camera=%s index=%d", self.camera_id, frame.index)
            self._failing = False
        for violation in violations:
            self._publish(violation)
        # counted once published, so that a frame counted as processed has had all its effects
        self._count(processed=1, detected=int(reason is not None), violations=len(violations))
        outcome = FrameOutcome(frame, self._known, reason, regions, motion, violations)
        self._run_hooks(self._outcome_hooks, outcome)
        return outcome

    def _count_read(self, index: int, now_s: float) -> int:
        """Count the frames the source decoded up to this one; return how many we never saw."""
        last, self._last_index = self._last_index, index
        step = 1 if last is None or index <= last else index - last
        self.read_rate.mark(now_s, step)
        self._count(read=step)
        return step - 1

    def _reason(self, frame: Frame, motion: Motion | None) -> DetectReason | None:
        if motion is None:
            return DetectReason.ALWAYS
        if motion.found:
            return DetectReason.MOTION
        if self._active_tracks is not None and self._active_tracks(self.camera_id):
            return DetectReason.TRACKS
        assert self._keepalive is not None  # set together with the motion detector
        last = self._last_detected_at
        if last is None or frame.captured_at < last:  # the first frame, or the clock went back
            return DetectReason.KEEPALIVE
        since = frame.captured_at - last
        if since >= 2 * self._keepalive or (
            since >= self._keepalive and self._scheduler.waiting() == 0
        ):
            return DetectReason.KEEPALIVE
        return None

    def _plan(
        self, frame: Frame, motion: Motion | None, reason: DetectReason
    ) -> tuple[Region, ...]:
        """Where the detector looks; () for the whole frame."""
        size_px = self._region_size_px
        frame_hw = (frame.height, frame.width)
        if size_px is None or not self._regions.enabled or reason is DetectReason.ALWAYS:
            return ()
        known = self._known.xyxy
        if reason is DetectReason.KEEPALIVE:
            recheck = max(frame_hw) > size_px * self._regions.recheck_factor
            if len(self._known) == 0 or not recheck:
                return ()
            # the whole frame, and the known objects again at full resolution
            around_known = plan_regions(frame_hw, known, size_px=size_px, config=self._regions)
            if any(region.covers_whole(frame_hw) for region in around_known):
                return ()
            return (Region.whole(frame_hw), *around_known)
        if reason is DetectReason.TRACKS:
            boxes = known
        else:
            assert motion is not None  # DetectReason.MOTION
            boxes = motion.xyxy.astype(np.float32)
            if self._active_tracks is not None and self._active_tracks(self.camera_id):
                boxes = np.concatenate([boxes, known])
        regions = plan_regions(frame_hw, boxes, size_px=size_px, config=self._regions)
        if len(regions) == 1 and regions[0].covers_whole(frame_hw):
            return ()
        return regions

    def _merge(self, found: Detections, regions: tuple[Region, ...], frame: Frame) -> Detections:
        """Known objects after a detection: inside the regions the new ones, outside the old."""
        frame_hw = (frame.height, frame.width)
        if not regions or any(region.covers_whole(frame_hw) for region in regions):
            return found
        known = self._known
        if len(known) == 0:
            return found
        centres = box_centres(known.xyxy)
        outside = np.ones(len(known), np.bool_)
        for region in regions:
            outside &= ~region.contains_points(centres)
        return concat_detections([known[outside], found], found.class_names)

    def _run_hooks(self, hooks: Sequence[Callable[[T], None]], item: T) -> None:
        for hook in hooks:
            try:
                hook(item)
            except Exception:  # a hook's bug must not stop the camera; logged once per hook
                if id(hook) not in self._failing_hooks:
                    self._failing_hooks.add(id(hook))
                    logger.exception("hook failed camera=%s hook=%r", self.camera_id, hook)

    def _count(
        self,
        *,
        frames: int = 0,
        read: int = 0,
        skipped: int = 0,
        skipped_busy: int = 0,
        processed: int = 0,
        detected: int = 0,
        failed: int = 0,
        violations: int = 0,
    ) -> None:
        with self._lock:
            counters = self._counters
            self._counters = CameraCounters(
                frames=counters.frames + frames,
                read=counters.read + read,
                skipped=counters.skipped + skipped,
                skipped_busy=counters.skipped_busy + skipped_busy,
                processed=counters.processed + processed,
                detected=counters.detected + detected,
                failed=counters.failed + failed,
                violations=counters.violations + violations,
            )
