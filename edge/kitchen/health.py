"""Camera health from cheap frame statistics and time: offline, frozen, blurred or covered.

measure_frame reduces a frame to a grey sample SAMPLE_WIDTH px wide (nearest-neighbour to twice
that, then 2x2 averaged: about 1 ms for 1080p, and it keeps enough sensor noise that a live but
static scene still changes between two samples while a frozen stream repeats exactly) and computes:
- change: mean absolute grey difference to the previous sample (frozen: ~0);
- sharpness: variance of the Laplacian of the sample after a 3x3 median (the median removes most
  sensor noise, which would otherwise pass for detail; blurred or covered: low);
- brightness: mean grey level 0..255 (a covered or dead lens: near 0);
- flat_fraction: share of 16x16 tiles with a grey standard deviation under FLAT_TILE_STD (a hand,
  cloth or tape over the lens gives an almost uniform picture even when it is not dark).

CameraHealth runs three Conditions (incidents.py) on those numbers, sampled every
sample_interval_s of frame time:
- camera_offline: an outage is on while the source reports offline or no frame came for the
  camera's stall timeout; it is observed on every tick() as VIOLATING since the last frame, so the
  incident's started_at is when the frames stopped; each frame is COMPLIANT evidence.
- camera_frozen: change <= frozen_max_change is VIOLATING, above it COMPLIANT.
- camera_blurred_or_covered: VIOLATING when brightness < min_brightness, flat_fraction >
  max_flat_fraction, sharpness < min_sharpness, or sharpness < min_relative_sharpness x the
  camera's own sharpness baseline (a slow average of its healthy samples, used once it has
  BASELINE_MIN_SAMPLES: scenes differ too much in texture for one absolute threshold). COMPLIANT
  only when every check clears its threshold by recover_margin (hysteresis in value as well as in
  time); in between, UNCERTAIN.
Each rule's Timing gives the time hysteresis: enter after min_duration_s of VIOLATING samples
(gaps up to max_gap_s), leave after clear_s of COMPLIANT ones. Health incidents never end for
want of observations (lost_s is infinite): no frames is no evidence of recovery.
"""

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.kitchen.incidents import Condition, EndReason, Evidence, IncidentEvent, Observation
from edge.kitchen.rules import RuleSettings
from streams.frame import SourceState

SAMPLE_WIDTH = 320
FLAT_TILE = 16
FLAT_TILE_STD = 4.0
BASELINE_MIN_SAMPLES = 30
BASELINE_TIME_CONSTANT_S = 600.0
_HEALTH_EVIDENCE = Evidence(confidence=1.0)


@dataclass(frozen=True, slots=True)
class FrameStats:
    grey: NDArray[np.float32] = field(repr=False)  # the sample, for the next frame's change
    change: float | None  # None: no previous sample of the same size
    sharpness: float
    brightness: float
    flat_fraction: float


def measure_frame(image: NDArray[np.uint8], previous: FrameStats | None = None) -> FrameStats:
    """Statistics of one BGR (H, W, 3) or grey (H, W) frame, about 1 ms whatever its size."""
    if image.ndim not in (2, 3) or image.shape[0] < 4 or image.shape[1] < 4:
        raise ValueError(f"expected an (H, W, 3) or (H, W) image, got shape {image.shape}")
    height, width = image.shape[:2]
    sample_w = min(SAMPLE_WIDTH, max(2, width // 2))
    sample_h = max(2, round(height * sample_w / width))
    nearest = cv2.resize(image, (sample_w * 2, sample_h * 2), interpolation=cv2.INTER_NEAREST)
    if nearest.ndim == 3:
        nearest = cv2.cvtColor(nearest, cv2.COLOR_BGR2GRAY)
    grey = np.asarray(
        cv2.resize(nearest.astype(np.float32), (sample_w, sample_h), interpolation=cv2.INTER_AREA),
        dtype=np.float32,
    )
    change = None
    if previous is not None and previous.grey.shape == grey.shape:
        change = float(np.abs(grey - previous.grey).mean())
    denoised = cv2.medianBlur(np.clip(grey, 0, 255).astype(np.uint8), 3)
    sharpness = float(cv2.Laplacian(denoised.astype(np.float32), cv2.CV_32F).var())
    tiles_y, tiles_x = sample_h // FLAT_TILE, sample_w // FLAT_TILE
    if tiles_y and tiles_x:
        tiles = grey[: tiles_y * FLAT_TILE, : tiles_x * FLAT_TILE].reshape(
            tiles_y, FLAT_TILE, tiles_x, FLAT_TILE
        )
        flat_fraction = float((tiles.std(axis=(1, 3)) < FLAT_TILE_STD).mean())
    else:
        flat_fraction = float(grey.std() < FLAT_TILE_STD)
    return FrameStats(
        grey=grey,
        change=change,
        sharpness=sharpness,
        brightness=float(grey.mean()),
        flat_fraction=flat_fraction,
    )


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    frozen_max_change: float = 0.05
    min_sharpness: float = 8.0
    min_relative_sharpness: float = 0.2
    min_brightness: float = 12.0
    max_flat_fraction: float = 0.9
    recover_margin: float = 1.25

    def frozen(self, stats: FrameStats) -> Observation | None:
        if stats.change is None:
            return None
        if stats.change <= self.frozen_max_change:
            return Observation.VIOLATING
        return Observation.COMPLIANT

    def blurred_or_covered(self, stats: FrameStats, baseline: float | None) -> Observation:
        floor = self.min_sharpness
        if baseline is not None:
            floor = max(floor, self.min_relative_sharpness * baseline)
        if (
            stats.brightness < self.min_brightness
            or stats.flat_fraction > self.max_flat_fraction
            or stats.sharpness < floor
        ):
            return Observation.VIOLATING
        margin = self.recover_margin
        if (
            stats.brightness >= self.min_brightness * margin
            and stats.flat_fraction <= 1.0 - (1.0 - self.max_flat_fraction) * margin
            and stats.sharpness >= floor * margin
        ):
            return Observation.COMPLIANT
        return Observation.UNCERTAIN


class CameraHealthState(StrEnum):
    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"
    FROZEN = "frozen"
    BLURRED_OR_COVERED = "blurred_or_covered"


def _never_lost(settings: RuleSettings) -> Condition:
    return Condition(settings.identity, replace(settings.timing, lost_s=math.inf))


class CameraHealth:
    """The health incidents of one camera; a rule given as None is not watched."""

    def __init__(
        self,
        *,
        started_at: datetime,
        stall_timeout_s: float,
        offline: RuleSettings | None = None,
        frozen: RuleSettings | None = None,
        blurred_or_covered: RuleSettings | None = None,
        thresholds: HealthThresholds | None = None,
        sample_interval_s: float = 1.0,
    ) -> None:
        self.stall_timeout_s = stall_timeout_s
        self.thresholds = thresholds or HealthThresholds()
        self.sample_interval_s = sample_interval_s
        self._started_at = started_at
        self._last_frame_at: datetime | None = None
        self._source_offline_since: datetime | None = None
        self._last_stats: FrameStats | None = None
        self._last_sample_at: datetime | None = None
        self._baseline: float | None = None
        self._baseline_at: datetime | None = None
        self._baseline_samples = 0
        self._settings = {
            "offline": offline,
            "frozen": frozen,
            "blurred": blurred_or_covered,
        }
        self._conditions = {
            name: _never_lost(settings)
            for name, settings in self._settings.items()
            if settings is not None
        }

    @property
    def last_stats(self) -> FrameStats | None:
        return self._last_stats

    def state(self, now: datetime) -> CameraHealthState:
        """The camera's state for the edge status: outage first, then open incidents."""
        if self._outage_since(now) is not None:
            return CameraHealthState.OFFLINE
        frozen = self._conditions.get("frozen")
        if frozen is not None and frozen.is_open:
            return CameraHealthState.FROZEN
        blurred = self._conditions.get("blurred")
        if blurred is not None and blurred.is_open:
            return CameraHealthState.BLURRED_OR_COVERED
        if self._last_frame_at is None:
            return CameraHealthState.STARTING
        return CameraHealthState.ONLINE

    def on_source_state(self, at: datetime, state: SourceState) -> list[IncidentEvent]:
        if state is SourceState.OFFLINE:
            if self._source_offline_since is None:
                self._source_offline_since = at
        else:
            self._source_offline_since = None
        return self.tick(at)

    def observe_frame(
        self, at: datetime, image: NDArray[np.uint8] | None = None
    ) -> list[IncidentEvent]:
        """A frame arrived at `at`; its image is measured when a sample is due (None: not now)."""
        events = self._observe("offline", at, Observation.COMPLIANT)
        self._last_frame_at = at
        # a frame from before the source reported offline (its camera thread was still handling
        # it) does not mean the source is back
        if self._source_offline_since is not None and at > self._source_offline_since:
            self._source_offline_since = None
        due = self._last_sample_at is None or (
            (at - self._last_sample_at).total_seconds() >= self.sample_interval_s
        )
        if (
            image is not None
            and due
            and ("frozen" in self._conditions or "blurred" in self._conditions)
        ):
            events.extend(self.observe_stats(at, measure_frame(image, self._last_stats)))
        return events

    def observe_stats(self, at: datetime, stats: FrameStats) -> list[IncidentEvent]:
        self._last_stats = stats
        self._last_sample_at = at
        events: list[IncidentEvent] = []
        frozen = self.thresholds.frozen(stats)
        if frozen is not None:
            events.extend(self._observe("frozen", at, frozen))
        baseline = self._baseline if self._baseline_samples >= BASELINE_MIN_SAMPLES else None
        blurred = self.thresholds.blurred_or_covered(stats, baseline)
        events.extend(self._observe("blurred", at, blurred))
        condition = self._conditions.get("blurred")
        healthy = condition is None or not (condition.is_open or condition.is_pending)
        if blurred is Observation.COMPLIANT and healthy:
            self._learn_sharpness(at, stats.sharpness)
        return events

    def _learn_sharpness(self, at: datetime, sharpness: float) -> None:
        """A geometric running average: a running mean at first, then ~BASELINE_TIME_CONSTANT_S."""
        value = math.log(max(sharpness, 1e-3))
        if self._baseline is None or self._baseline_at is None:
            weight = 1.0
        else:
            elapsed_s = max(0.0, (at - self._baseline_at).total_seconds())
            weight = max(1.0 / (self._baseline_samples + 1), elapsed_s / BASELINE_TIME_CONSTANT_S)
        previous = value if self._baseline is None else math.log(self._baseline)
        self._baseline = math.exp(previous + min(1.0, weight) * (value - previous))
        self._baseline_at = at
        self._baseline_samples += 1

    @property
    def sharpness_baseline(self) -> float | None:
        """The camera's learnt healthy sharpness, once it has enough samples to be used."""
        return self._baseline if self._baseline_samples >= BASELINE_MIN_SAMPLES else None

    def tick(self, now: datetime) -> list[IncidentEvent]:
        """Time alone: an outage that went on long enough becomes (or keeps) an incident."""
        since = self._outage_since(now)
        if since is None:
            return self._observe("offline", now, None)
        return self._observe("offline", now, Observation.VIOLATING, since=since)

    def close(self, now: datetime, reason: EndReason) -> list[IncidentEvent]:
        return [e for condition in self._conditions.values() for e in condition.end(now, reason)]

    def reset(self, now: datetime) -> None:
        for name, condition in list(self._conditions.items()):
            self._conditions[name] = Condition(condition.identity, condition.timing)
        self._started_at = now
        self._last_frame_at = None
        self._source_offline_since = None
        self._last_stats = None
        self._last_sample_at = None
        self._baseline = None
        self._baseline_at = None
        self._baseline_samples = 0

    def _outage_since(self, now: datetime) -> datetime | None:
        last = self._last_frame_at
        stalled = (now - (last or self._started_at)).total_seconds() > self.stall_timeout_s
        if self._source_offline_since is None and not stalled:
            return None
        candidates = [t for t in (last, self._source_offline_since) if t is not None]
        return min(candidates) if candidates else self._started_at

    def _observe(
        self,
        name: str,
        at: datetime,
        observation: Observation | None,
        *,
        since: datetime | None = None,
    ) -> list[IncidentEvent]:
        condition = self._conditions.get(name)
        settings = self._settings[name]
        if condition is None or settings is None:
            return []
        if not settings.active.is_active(at):
            return condition.end(at, EndReason.SCHEDULE)
        if observation is None:
            return condition.advance(at)
        evidence = _HEALTH_EVIDENCE if observation is Observation.VIOLATING else None
        return condition.observe(at, observation, evidence, since=since)
