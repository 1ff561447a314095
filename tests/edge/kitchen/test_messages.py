"""Incident events on the wire: one ViolationEvent per start, one ViolationEnd per end, same id."""

import pytest

from contracts import ViolationKind, decode_violation, decode_violation_end, encode
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.messages import violation_end, violation_event
from edge.kitchen.rules import RodentRule
from tests.edge.kitchen.timeline import Recorder, at, settings, times


def test_an_incident_becomes_a_violation_and_its_end() -> None:
    rule = RodentRule(
        settings(ViolationKind.RODENT, rule_id="rats", severity=1, min_duration_s=1.0, lost_s=2.0)
    )
    recorder = Recorder(KitchenRuleEngine("cam-1", rules=[rule]))
    for t_s in times(0.0, 2.0):
        recorder.frame(
            t_s, ("rodent", (100, 300, 124, 312), 0.8), ("rodent", (400, 300, 424, 312), 0.7)
        )
    for t_s in times(2.2, 5.0):
        recorder.frame(t_s)
    [start] = recorder.starts
    [end] = recorder.ends

    event = decode_violation(encode(violation_event(start, site="site-1", edge="edge-1")))
    ended = decode_violation_end(encode(violation_end(end, site="site-1", edge="edge-1")))

    assert event.violation_id == ended.violation_id == start.incident_id
    assert (event.kind, event.severity, event.rule, event.camera) == (
        ViolationKind.RODENT,
        1,
        "rats",
        "cam-1",
    )
    assert (event.count, event.track_id, event.occurred_at) == (2, start.track_id, at(1.0))
    assert [box.label for box in event.boxes] == ["rodent", "rodent"]
    assert event.boxes[0].confidence == pytest.approx(0.8)
    assert (ended.ended_at, ended.duration_s, ended.max_count) == (at(2.0), 2.0, 2)
    with pytest.raises(ValueError, match="start event"):
        violation_event(end, site="site-1", edge="edge-1")
    with pytest.raises(ValueError, match="end event"):
        violation_end(start, site="site-1", edge="edge-1")
