"""Golden payloads decode; bad payloads are rejected with a reason fit for a metric label."""

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from contracts import (
    CameraState,
    EdgeState,
    EdgeStatus,
    PayloadError,
    ViolationEvent,
    ViolationKind,
    decode_status,
    decode_violation,
    decode_violation_end,
    encode,
)

GOLDEN = Path(__file__).parent / "golden"


def test_golden_violation_event_decodes_with_utc_time() -> None:
    event = decode_violation((GOLDEN / "violation_event.v1.json").read_bytes())
    assert event.violation_id == uuid.UUID("5f0c6f8e-2b7a-4c1e-9d3b-8a1f2e3d4c5b")
    assert event.kind is ViolationKind.NO_HAT
    assert event.severity == 3
    assert event.occurred_at == datetime(2026, 11, 28, 0, 30, 5, 250000, tzinfo=UTC)
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.boxes[0].label == "head_bare"
    assert event.has_snapshot
    assert not event.has_clip


def test_golden_edge_status_decodes() -> None:
    status = decode_status((GOLDEN / "edge_status.v1.json").read_bytes())
    assert status.state is EdgeState.ONLINE
    assert status.cameras["storeroom"].state is CameraState.OFFLINE


def test_encode_then_decode_is_identity() -> None:
    event = decode_violation((GOLDEN / "violation_event.v1.json").read_bytes())
    assert decode_violation(encode(event)) == event
    status = decode_status((GOLDEN / "edge_status.v1.json").read_bytes())
    assert decode_status(encode(status)) == status


def _golden_violation() -> dict[str, object]:
    loaded: dict[str, object] = json.loads((GOLDEN / "violation_event.v1.json").read_text())
    return loaded


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"site": "school/042"}, "schema"),
        ({"edge": "edge+1"}, "schema"),
        ({"camera": "#"}, "schema"),
        ({"camera": ""}, "schema"),
        ({"schema_version": 2}, "schema"),
        ({"severity": 0}, "schema"),
        ({"confidence": 1.5}, "schema"),
        ({"kind": "dancing"}, "schema"),
        ({"occurred_at": "2026-11-28T08:30:05"}, "schema"),
        ({"unexpected": True}, "schema"),
        ({"violation_id": "not-a-uuid"}, "schema"),
        (
            {"boxes": [{"label": "x", "confidence": 0.5, "x1": 0.5, "y1": 0, "x2": 0.4, "y2": 1}]},
            "schema",
        ),
    ],
)
def test_invalid_violation_is_rejected(change: dict[str, object], reason: str) -> None:
    payload = _golden_violation() | change
    with pytest.raises(PayloadError) as raised:
        decode_violation(json.dumps(payload).encode())
    assert raised.value.reason == reason


@pytest.mark.parametrize("payload", [b"", b"{", b"\xff\xfe", b"[1, 2"])
def test_malformed_json_is_rejected(payload: bytes) -> None:
    with pytest.raises(PayloadError) as raised:
        decode_violation(payload)
    assert raised.value.reason == "malformed_json"


def test_naive_datetime_cannot_be_constructed() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ViolationEvent(
            violation_id=uuid.uuid4(),
            site="s",
            edge="e",
            camera="c",
            rule="r",
            kind=ViolationKind.RODENT,
            severity=1,
            confidence=0.9,
            occurred_at=datetime(2026, 1, 1),  # noqa: DTZ001 - the point of the test
        )


def test_status_times_are_normalised_to_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    status = EdgeStatus(
        site="s",
        edge="e",
        state=EdgeState.OFFLINE,
        reported_at=datetime(2026, 11, 28, 8, 0, tzinfo=shanghai),
    )
    assert status.reported_at == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert status.reported_at.tzinfo is UTC


def test_golden_violation_end_decodes_and_round_trips() -> None:
    end = decode_violation_end((GOLDEN / "violation_end.v1.json").read_bytes())
    assert end.violation_id == uuid.UUID("5f0c6f8e-2b7a-4c1e-9d3b-8a1f2e3d4c5b")
    assert end.duration_s == 305.0
    assert decode_violation_end(encode(end)) == end


def test_violation_end_rejects_negative_duration() -> None:
    payload = json.loads((GOLDEN / "violation_end.v1.json").read_text()) | {"duration_s": -1}
    with pytest.raises(PayloadError):
        decode_violation_end(json.dumps(payload).encode())


def test_older_violation_payloads_without_track_or_count_still_decode() -> None:
    event = decode_violation((GOLDEN / "violation_event.v1.json").read_bytes())
    assert event.track_id is None
    assert event.count == 1
