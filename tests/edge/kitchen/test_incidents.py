"""Condition: persistence, gaps, uncertain, clearing, losing the target, cooldown, counts."""

from collections.abc import Iterable

import pytest

from contracts import ViolationKind
from edge.kitchen.incidents import (
    Condition,
    EndReason,
    Evidence,
    IncidentEvent,
    IncidentPhase,
    Observation,
    RuleIdentity,
    Timing,
)
from tests.edge.kitchen.timeline import at, counting_ids, seconds, times

V, C, U = Observation.VIOLATING, Observation.COMPLIANT, Observation.UNCERTAIN
SEEN = Evidence(confidence=0.8, track_id=7)


def condition(**timing: float) -> Condition:
    defaults = {"min_duration_s": 3.0, "cooldown_s": 30.0, "max_gap_s": 1.0, "clear_s": 2.0}
    defaults.update(timing)
    ids = counting_ids()
    return Condition(
        RuleIdentity("hat", ViolationKind.NO_HAT, 3, "cam-1"),
        Timing(**defaults),
        new_id=lambda: next(ids),
    )


def feed(
    subject: Condition, timeline: Iterable[tuple[float, Observation]], evidence: Evidence = SEEN
) -> list[IncidentEvent]:
    return [
        event
        for t_s, observation in timeline
        for event in subject.observe(at(t_s), observation, evidence if observation is V else None)
    ]


def steady(
    observation: Observation, start_s: float, end_s: float
) -> list[tuple[float, Observation]]:
    return [(t_s, observation) for t_s in times(start_s, end_s)]


def test_starts_once_the_condition_has_lasted_min_duration() -> None:
    events = feed(condition(), steady(V, 0.0, 10.0))

    assert [(e.phase, seconds(e.at), seconds(e.started_at)) for e in events] == [
        (IncidentPhase.START, 3.0, 0.0)
    ]
    assert events[0].track_id == 7
    assert events[0].duration_s == 3.0


def test_shorter_than_min_duration_never_starts() -> None:
    assert feed(condition(), steady(V, 0.0, 2.8) + steady(C, 3.0, 6.0)) == []


def test_gaps_within_max_gap_keep_the_pending_period() -> None:
    timeline = [*steady(V, 0.0, 1.0), (2.0, V), *steady(V, 2.2, 3.0)]
    assert [seconds(e.at) for e in feed(condition(), timeline)] == [3.0]


def test_a_longer_gap_restarts_it() -> None:
    timeline = steady(V, 0.0, 1.0) + steady(V, 2.2, 6.0)
    assert [seconds(e.at) for e in feed(condition(), timeline)] == [5.2]


def test_a_compliant_observation_resets_the_pending_period() -> None:
    timeline = [*steady(V, 0.0, 2.0), (2.2, C), *steady(V, 2.4, 8.0)]
    assert [seconds(e.at) for e in feed(condition(), timeline)] == [5.4]


def test_uncertain_never_starts_an_incident() -> None:
    assert feed(condition(), steady(U, 0.0, 60.0)) == []
    # uncertain frames do not count as violating time either: the gap lapses
    timeline = [(0.0, V), *steady(U, 0.2, 5.0), (5.2, V)]
    assert feed(condition(), timeline) == []


def test_uncertain_never_ends_an_open_incident() -> None:
    subject = condition(lost_s=10.0)
    events = feed(subject, steady(V, 0.0, 4.0) + steady(U, 4.2, 120.0))

    assert [e.phase for e in events] == [IncidentPhase.START]
    assert subject.is_open


def test_compliant_for_clear_s_ends_it_at_the_first_compliant_frame() -> None:
    events = feed(condition(clear_s=2.0), steady(V, 0.0, 10.0) + steady(C, 10.2, 20.0))

    end = events[-1]
    assert [e.phase for e in events] == [IncidentPhase.START, IncidentPhase.END]
    assert end.incident_id == events[0].incident_id
    assert (seconds(end.at), seconds(end.ended_at), end.end_reason) == (
        12.2,
        10.2,
        EndReason.CLEARED,
    )
    assert end.duration_s == pytest.approx(10.2)


def test_a_violating_frame_restarts_the_clearing() -> None:
    timeline = [*steady(V, 0.0, 4.0), *steady(C, 4.2, 5.6), (5.8, V), *steady(C, 6.0, 9.0)]
    ends = [e for e in feed(condition(clear_s=2.0), timeline) if e.phase is IncidentPhase.END]

    assert [(seconds(e.at), seconds(e.ended_at)) for e in ends] == [(8.0, 6.0)]


def test_uncertain_frames_do_not_interrupt_the_clearing() -> None:
    timeline = [*steady(V, 0.0, 4.0), (4.2, C), *steady(U, 4.4, 6.0), (6.2, C)]
    ends = [e for e in feed(condition(clear_s=2.0), timeline) if e.phase is IncidentPhase.END]

    assert [seconds(e.ended_at) for e in ends] == [4.2]


def test_a_target_not_seen_for_lost_s_ends_at_its_last_sighting() -> None:
    subject = condition(lost_s=10.0)
    feed(subject, steady(V, 0.0, 5.0))

    assert subject.advance(at(15.0)) == []
    [end] = subject.advance(at(15.2))
    assert (end.end_reason, seconds(end.ended_at), end.duration_s) == (EndReason.LOST, 5.0, 5.0)


def test_cooldown_blocks_a_new_incident_then_persistence_counts_from_its_end() -> None:
    subject = condition(cooldown_s=30.0, clear_s=0.0)
    timeline = [*steady(V, 0.0, 4.0), (4.2, C), *steady(V, 5.0, 60.0)]
    events = feed(subject, timeline)

    assert [(e.phase, seconds(e.at)) for e in events] == [
        (IncidentPhase.START, 3.0),
        (IncidentPhase.END, 4.2),
        (IncidentPhase.START, 37.2),  # cooldown ends at 34.2, then 3 s of persistence
    ]
    assert events[2].incident_id != events[0].incident_id
    assert seconds(events[2].started_at) == 5.0


def test_zero_min_duration_starts_on_the_first_violating_frame() -> None:
    assert [seconds(e.at) for e in feed(condition(min_duration_s=0.0), [(1.0, V)])] == [1.0]


def test_a_rising_count_is_an_update_and_the_end_keeps_the_maximum() -> None:
    subject = condition(min_duration_s=1.0, lost_s=2.0)
    events = []
    for t_s, count in [(0.0, 1), (1.0, 1), (1.2, 2), (1.4, 3), (1.6, 1), (2.0, 2)]:
        evidence = Evidence(confidence=0.6 + 0.1 * count, count=count, track_id=count)
        events += subject.observe(at(t_s), V, evidence)
    events += subject.advance(at(5.0))

    assert [(e.phase, e.count, e.max_count) for e in events] == [
        (IncidentPhase.START, 1, 1),
        (IncidentPhase.UPDATE, 2, 2),
        (IncidentPhase.UPDATE, 3, 3),
        (IncidentPhase.END, 2, 3),
    ]
    assert {e.track_id for e in events} == {1}  # the incident keeps the track it started with
    assert events[-1].confidence == pytest.approx(0.9)


def test_since_backdates_the_condition() -> None:
    # an outage noticed at 30 s that began at 0 s: observed every second since then
    subject = condition(min_duration_s=60.0, max_gap_s=5.0)
    events = [
        event for t_s in range(30, 61) for event in subject.observe(at(t_s), V, SEEN, since=at(0.0))
    ]

    assert [(seconds(e.at), seconds(e.started_at)) for e in events] == [(60.0, 0.0)]


def test_a_forced_end_uses_the_last_sighting() -> None:
    subject = condition()
    feed(subject, steady(V, 0.0, 5.0))
    [end] = subject.end(at(9.0), EndReason.SCHEDULE)

    assert (seconds(end.at), seconds(end.ended_at), end.end_reason) == (
        9.0,
        5.0,
        EndReason.SCHEDULE,
    )
    assert subject.end(at(9.5), EndReason.SHUTDOWN) == []


def test_a_violating_observation_needs_evidence() -> None:
    with pytest.raises(ValueError, match="evidence"):
        condition().observe(at(0.0), V)


def test_negative_timing_is_refused() -> None:
    with pytest.raises(ValueError, match="cooldown_s"):
        Timing(cooldown_s=-1.0)
