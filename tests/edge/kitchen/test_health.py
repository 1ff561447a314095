"""Camera health: frame statistics, and frozen / blurred or covered / offline with hysteresis."""

import math

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from contracts import ViolationKind
from edge.kitchen.health import (
    CameraHealth,
    CameraHealthState,
    FrameStats,
    HealthThresholds,
    measure_frame,
)
from edge.kitchen.incidents import EndReason, IncidentEvent, IncidentPhase, Observation
from edge.kitchen.rules import RuleSettings
from scenes.scene import SceneConfig, generate_scene
from streams.frame import SourceState
from tests.edge.kitchen.timeline import at, seconds, settings, times

Image = NDArray[np.uint8]


@pytest.fixture(scope="module")
def kitchen() -> Image:
    return generate_scene(0, size=(640, 360), config=SceneConfig(night=False)).image


class Live:
    """The scene with sensor noise that differs from one second to the next, as cameras give it."""

    def __init__(self, image: Image) -> None:
        rng = np.random.default_rng(0)
        self._variants = [
            np.clip(image.astype(np.float32) + rng.normal(0.0, 2.0, image.shape), 0, 255).astype(
                np.uint8
            )
            for _ in range(3)
        ]

    def __call__(self, t_s: float) -> Image:
        return self._variants[int(t_s) % 3]


@pytest.fixture(scope="module")
def live(kitchen: Image) -> Live:
    return Live(kitchen)


BLACK: Image = np.zeros((360, 640, 3), dtype=np.uint8)


def health_rule(
    kind: ViolationKind, *, min_duration_s: float = 15.0, clear_s: float = 10.0
) -> RuleSettings:
    return settings(
        kind,
        rule_id=kind.value.replace("_", "-"),
        severity=2,
        max_gap_s=3.0,
        min_duration_s=min_duration_s,
        clear_s=clear_s,
        lost_s=math.inf,
    )


def camera_health(
    *,
    offline: RuleSettings | None = None,
    frozen: RuleSettings | None = None,
    blurred_or_covered: RuleSettings | None = None,
) -> CameraHealth:
    return CameraHealth(
        started_at=at(0.0),
        stall_timeout_s=5.0,
        offline=offline,
        frozen=frozen,
        blurred_or_covered=blurred_or_covered,
    )


def blur(image: Image, sigma: float, noise: float = 0.0) -> Image:
    blurred = cv2.GaussianBlur(image, (0, 0), sigma).astype(np.float32)
    if noise:
        blurred += np.random.default_rng(3).normal(0.0, noise, image.shape)
    return np.clip(blurred, 0, 255).astype(np.uint8)


def summary(events: list[IncidentEvent]) -> list[tuple[str, str, float, float | None]]:
    return [
        (
            e.kind.value,
            e.phase.value,
            seconds(e.at),
            None if e.phase is not IncidentPhase.END else seconds(e.ended_at),
        )
        for e in events
    ]


def test_statistics_tell_live_frozen_blurred_and_covered_apart(kitchen: Image, live: Live) -> None:
    thresholds = HealthThresholds()
    first = measure_frame(live(0.0))
    second = measure_frame(live(1.0), first)
    repeated = measure_frame(live(0.0), first)
    blurred = measure_frame(blur(kitchen, 8.0))
    covered = measure_frame(
        np.clip(
            np.full(kitchen.shape, 140.0) + np.random.default_rng(1).normal(0, 3, kitchen.shape),
            0,
            255,
        ).astype(np.uint8)
    )
    black = measure_frame(BLACK)

    assert second.change is not None
    assert second.change > 0.5
    assert repeated.change == 0.0
    assert thresholds.frozen(second) is Observation.COMPLIANT
    assert thresholds.frozen(repeated) is Observation.VIOLATING
    assert thresholds.blurred_or_covered(second, None) is Observation.COMPLIANT
    assert thresholds.blurred_or_covered(blurred, None) is Observation.VIOLATING
    assert covered.flat_fraction > 0.9
    assert thresholds.blurred_or_covered(covered, None) is Observation.VIOLATING
    assert black.brightness < 1.0
    assert thresholds.blurred_or_covered(black, None) is Observation.VIOLATING


def test_statistics_of_a_1080p_frame_are_on_the_same_scale(kitchen: Image) -> None:
    small = measure_frame(kitchen)
    large = measure_frame(np.repeat(np.repeat(kitchen, 3, axis=0), 3, axis=1))
    assert large.grey.shape == small.grey.shape == (180, 320)
    assert large.brightness == pytest.approx(small.brightness, abs=2.0)


def test_a_frozen_stream_is_an_incident_until_it_moves_again(live: Live) -> None:
    health = camera_health(
        frozen=health_rule(ViolationKind.CAMERA_FROZEN, min_duration_s=30.0, clear_s=5.0)
    )
    stuck = live(10.0).copy()
    events: list[IncidentEvent] = []
    for t_s in times(0.0, 100.0):
        image = stuck if 10.0 <= t_s < 60.0 else live(t_s)
        events += health.observe_frame(at(t_s), image)
        if t_s == 50.0:
            assert health.state(at(t_s)) is CameraHealthState.FROZEN

    # samples every second: the first unchanged one at 11 s, so the incident opens at 41 s;
    # it moves again at 60 s, and after 5 s of changes the incident ends
    assert summary(events) == [
        ("camera_frozen", "start", 41.0, None),
        ("camera_frozen", "end", 65.0, 60.0),
    ]
    assert health.state(at(100.0)) is CameraHealthState.ONLINE


def test_a_short_freeze_is_not_an_incident(live: Live) -> None:
    health = camera_health(frozen=health_rule(ViolationKind.CAMERA_FROZEN, min_duration_s=30.0))
    stuck = live(10.0).copy()
    events = [
        e
        for t_s in times(0.0, 120.0, fps=1.0)
        for e in health.observe_frame(at(t_s), stuck if 10 <= t_s < 35 else live(t_s))
    ]
    assert events == []


def test_a_covered_lens_is_an_incident_with_hysteresis(live: Live) -> None:
    health = camera_health(
        blurred_or_covered=health_rule(
            ViolationKind.CAMERA_BLURRED_OR_COVERED, min_duration_s=15.0, clear_s=10.0
        )
    )
    events: list[IncidentEvent] = []
    for t_s in times(0.0, 100.0, fps=1.0):
        if 20 <= t_s < 50:
            image = BLACK
        elif 55 <= t_s < 58:
            image = BLACK  # a hand in front of it while recovering: the clearing starts again
        else:
            image = live(t_s)
        events += health.observe_frame(at(t_s), image)
        if t_s == 40:
            assert health.state(at(t_s)) is CameraHealthState.BLURRED_OR_COVERED

    assert summary(events) == [
        ("camera_blurred_or_covered", "start", 35.0, None),
        ("camera_blurred_or_covered", "end", 68.0, 58.0),
    ]


def test_a_brief_cover_is_not_an_incident(live: Live) -> None:
    health = camera_health(
        blurred_or_covered=health_rule(ViolationKind.CAMERA_BLURRED_OR_COVERED, min_duration_s=15.0)
    )
    events = [
        e
        for t_s in times(0.0, 60.0, fps=1.0)
        for e in health.observe_frame(at(t_s), BLACK if 20 <= t_s < 30 else live(t_s))
    ]
    assert events == []


def test_values_between_the_thresholds_neither_start_nor_end() -> None:
    health = camera_health(
        blurred_or_covered=health_rule(
            ViolationKind.CAMERA_BLURRED_OR_COVERED, min_duration_s=5.0, clear_s=2.0
        )
    )
    grey = np.zeros((180, 320), dtype=np.float32)

    def stats(brightness: float) -> FrameStats:
        return FrameStats(
            grey=grey, change=1.0, sharpness=100.0, brightness=brightness, flat_fraction=0.1
        )

    # dark (< 12), then dim (12 .. 15: uncertain) for a minute, then bright
    events = [e for t_s in range(10) for e in health.observe_stats(at(t_s), stats(5.0))]
    events += [e for t_s in range(10, 70) for e in health.observe_stats(at(t_s), stats(13.0))]
    assert summary(events) == [("camera_blurred_or_covered", "start", 5.0, None)]
    events += [e for t_s in range(70, 75) for e in health.observe_stats(at(t_s), stats(100.0))]
    assert summary(events)[-1] == ("camera_blurred_or_covered", "end", 72.0, 70.0)


def test_blur_relative_to_the_cameras_own_sharpness(kitchen: Image, live: Live) -> None:
    health = camera_health(
        blurred_or_covered=health_rule(ViolationKind.CAMERA_BLURRED_OR_COVERED, min_duration_s=15.0)
    )
    # mildly blurred: above the absolute floor, but a fraction of what this camera usually sees
    soft = blur(kitchen, 3.0, noise=2.0)
    assert measure_frame(soft).sharpness > HealthThresholds().min_sharpness
    events = [e for t_s in range(40) for e in health.observe_frame(at(t_s), live(t_s))]
    assert health.sharpness_baseline is not None
    events += [e for t_s in range(40, 60) for e in health.observe_frame(at(t_s), soft)]

    assert summary(events) == [("camera_blurred_or_covered", "start", 55.0, None)]


def test_no_frames_for_the_stall_timeout_is_an_outage_and_then_an_incident() -> None:
    health = camera_health(
        offline=health_rule(ViolationKind.CAMERA_OFFLINE, min_duration_s=60.0, clear_s=10.0)
    )
    events: list[IncidentEvent] = []
    for t_s in times(0.0, 10.0):
        events += health.observe_frame(at(t_s))
    for t_s in range(11, 100):
        events += health.tick(at(t_s))
        if t_s == 15:
            assert health.state(at(t_s)) is CameraHealthState.ONLINE  # within the stall timeout
        if t_s == 16:
            assert health.state(at(t_s)) is CameraHealthState.OFFLINE
    for t_s in times(100.0, 115.0):
        events += health.observe_frame(at(t_s), None)
        events += health.tick(at(t_s))

    start, end = events
    assert (start.phase, seconds(start.at), seconds(start.started_at)) == (
        IncidentPhase.START,
        70.0,
        10.0,
    )
    assert start.kind is ViolationKind.CAMERA_OFFLINE
    assert (end.phase, seconds(end.at), seconds(end.ended_at)) == (IncidentPhase.END, 110.0, 100.0)
    assert end.end_reason is EndReason.CLEARED
    assert end.duration_s == pytest.approx(90.0)
    assert health.state(at(115.0)) is CameraHealthState.ONLINE


def test_a_source_reporting_offline_is_an_outage_at_once() -> None:
    health = camera_health(offline=health_rule(ViolationKind.CAMERA_OFFLINE, min_duration_s=60.0))
    health.observe_frame(at(0.0))
    health.on_source_state(at(1.0), SourceState.OFFLINE)
    assert health.state(at(1.0)) is CameraHealthState.OFFLINE
    health.on_source_state(at(2.0), SourceState.ONLINE)
    assert health.state(at(2.0)) is CameraHealthState.ONLINE


def test_a_camera_that_never_sends_a_frame_goes_offline() -> None:
    health = camera_health(offline=health_rule(ViolationKind.CAMERA_OFFLINE, min_duration_s=60.0))
    assert health.state(at(1.0)) is CameraHealthState.STARTING
    events = [e for t_s in range(0, 70) for e in health.tick(at(t_s))]

    [start] = events
    assert (seconds(start.at), seconds(start.started_at)) == (60.0, 0.0)


def test_a_frame_from_before_the_offline_report_keeps_the_outage() -> None:
    health = camera_health(offline=health_rule(ViolationKind.CAMERA_OFFLINE, min_duration_s=60.0))
    health.observe_frame(at(1.0))
    health.on_source_state(at(1.5), SourceState.OFFLINE)
    health.observe_frame(at(1.0))  # its camera thread was still handling the last frame
    assert health.state(at(1.6)) is CameraHealthState.OFFLINE
    health.observe_frame(at(3.0))  # a new frame: the source is back
    assert health.state(at(3.0)) is CameraHealthState.ONLINE
