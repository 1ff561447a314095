"""The closed loop over HTTP with the injected clock: acknowledge, rectify with a photo, send
back, verify, dismiss; deadlines per tier and escalation of overdue tier-1 cases; the export."""

import hashlib
import json
from pathlib import Path
from typing import Any

from api.export import export_dataset
from api.storage import FilesystemStorage
from contracts import ViolationEvent, ViolationKind
from tests.api.media import jpeg_bytes
from tests.api.world import World
from tests.fixtures.api import T0, MakeViolation


def _ingest(world: World, event: ViolationEvent) -> str:
    assert world.components.store.insert_if_new(event, received_at=world.clock())
    return str(event.violation_id)


def _post(world: World, who: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = world.client.post(path, headers=world.as_(who), **kwargs)
    return response.status_code, response.json()


def _rectify(world: World, violation_id: str, note: str) -> tuple[int, dict[str, Any]]:
    return _post(
        world,
        "staff",
        f"/api/v1/violations/{violation_id}/rectify",
        data={"note": note},
        files={"photo": ("fixed.jpg", jpeg_bytes(), "image/jpeg")},
    )


def test_a_case_goes_round_the_loop_and_every_step_is_recorded(
    world: World, make_violation: MakeViolation
) -> None:
    vid = _ingest(world, make_violation(kind=ViolationKind.RODENT, severity=1))
    case = f"/api/v1/violations/{vid}"
    status, body = _post(world, "supervisor", f"{case}/verify")
    assert (status, body["detail"]) == (
        409,
        "cannot verify a case that is new (only when rectified)",
    )
    assert _post(world, "supervisor", f"{case}/acknowledge")[0] == 403  # staff's to do
    world.clock.advance(minutes=3)
    status, body = _post(world, "staff", f"{case}/acknowledge", json={"note": "on it"})
    assert (status, body["state"]) == (200, "acknowledged")
    no_photo = world.client.post(
        f"{case}/rectify", headers=world.as_("staff"), data={"note": "sealed the hole"}
    )
    assert no_photo.status_code == 422
    wrong_type = world.client.post(
        f"{case}/rectify",
        headers=world.as_("staff"),
        data={"note": "sealed"},
        files={"photo": ("fixed.jpg", b"MZ\x90\x00 not a picture", "image/jpeg")},
    )
    assert wrong_type.status_code == 415
    world.clock.advance(hours=2)
    status, body = _rectify(world, vid, "sealed the hole behind the fridge")
    assert (status, body["state"]) == (200, "rectified")
    assert _post(world, "supervisor", f"{case}/send-back", json={})[0] == 422  # needs a note
    world.clock.advance(hours=1)
    status, body = _post(world, "supervisor", f"{case}/send-back", json={"note": "photo blurry"})
    assert (status, body["state"]) == (200, "acknowledged")
    world.clock.advance(hours=1)
    assert _rectify(world, vid, "new photo, hole sealed")[1]["state"] == "rectified"
    world.clock.advance(hours=1)
    status, body = _post(world, "supervisor", f"{case}/verify")
    assert (status, body["state"]) == (200, "verified")
    assert _post(world, "supervisor", f"{case}/dismiss", json={"note": "late"})[0] == 409

    history = world.client.get(f"{case}/case", headers=world.as_("staff")).json()
    steps = [
        (t["action"], t["from_state"], t["to_state"], t["actor"], t["at"])
        for t in history["transitions"]
    ]
    assert steps == [
        ("acknowledge", "new", "acknowledged", "user:staff-1", "2025-03-01T08:03:00Z"),
        ("rectify", "acknowledged", "rectified", "user:staff-1", "2025-03-01T10:03:00Z"),
        ("send_back", "rectified", "acknowledged", "user:sup-north", "2025-03-01T11:03:00Z"),
        ("rectify", "acknowledged", "rectified", "user:staff-1", "2025-03-01T12:03:00Z"),
        ("verify", "rectified", "verified", "user:sup-north", "2025-03-01T13:03:00Z"),
    ]
    assert history["transitions"][2]["note"] == "photo blurry"
    photos = [e for e in history["evidence"] if e["kind"] == "photo"]
    assert len(photos) == 1  # the same photo twice is stored once
    photo = world.client.get(photos[0]["url"], headers=world.as_("supervisor"))
    assert (photo.status_code, photo.content) == (200, jpeg_bytes())


def test_deadlines_per_tier_and_escalation_of_overdue_tier_1_cases(
    world: World, make_violation: MakeViolation
) -> None:
    rodent = _ingest(world, make_violation(kind=ViolationKind.RODENT, severity=1, t_s=0))
    smoking = _ingest(world, make_violation(kind=ViolationKind.SMOKING, severity=2, t_s=0))
    no_hat = _ingest(world, make_violation(kind=ViolationKind.NO_HAT, severity=3, t_s=0))
    dismissed = _ingest(world, make_violation(kind=ViolationKind.RODENT, severity=1, t_s=0))
    assert (
        _post(
            world, "supervisor", f"/api/v1/violations/{dismissed}/dismiss", json={"note": "a cat"}
        )[0]
        == 200
    )

    def escalations() -> dict[str, str]:
        items = world.client.get("/api/v1/violations", headers=world.as_("supervisor")).json()
        return {item["violation_id"]: item["escalation"] for item in items["items"]}

    def queue(escalation: str) -> set[str]:
        found = world.client.get(
            f"/api/v1/violations?escalation={escalation}", headers=world.as_("supervisor")
        ).json()
        return {item["violation_id"] for item in found["items"]}

    case = world.client.get(f"/api/v1/violations/{rodent}", headers=world.as_("staff")).json()
    assert case["deadline_at"] == "2025-03-02T08:00:00Z"  # tier 1: 24 h
    world.clock.now = T0.replace(day=2, hour=8)  # exactly at the tier-1 deadline
    assert set(escalations().values()) == {"none"}
    world.clock.advance(seconds=1)
    assert escalations()[rodent] == "overdue"
    world.clock.now = T0.replace(day=7, hour=8, second=1)  # 5 days past its deadline
    assert escalations() == {
        rodent: "yellow",
        smoking: "overdue",  # tier 2: 72 h, overdue but never carded
        no_hat: "none",  # tier 3: 7 days
        dismissed: "none",
    }
    assert queue("yellow") == {rodent}
    assert queue("red") == set()
    assert queue("overdue") == {rodent, smoking}
    world.clock.now = T0.replace(day=12, hour=8, second=1)  # 10 days past
    assert escalations()[rodent] == "red"
    assert queue("red") == {rodent}
    assert queue("yellow") == set()
    later = world.clock.now.replace(day=20).isoformat()
    status, body = _post(
        world, "supervisor", f"/api/v1/violations/{rodent}/deadline", json={"deadline_at": later}
    )
    assert (status, body["escalation"], body["state"]) == (200, "none", "new")
    past = _post(
        world,
        "supervisor",
        f"/api/v1/violations/{rodent}/deadline",
        json={"deadline_at": "2025-01-01T00:00:00Z"},
    )
    assert past[0] == 422


def _upload_snapshot(world: World, violation_id: str) -> None:
    data = jpeg_bytes()
    response = world.client.put(
        f"/api/v1/edge/violations/{violation_id}/snapshot",
        content=data,
        headers={
            **world.as_("edge"),
            "Content-Type": "image/jpeg",
            "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
        },
    )
    assert response.status_code == 201, response.text


def test_reviewed_cases_export_as_a_labelled_image_set(
    world: World, make_violation: MakeViolation, tmp_path: Path
) -> None:
    confirmed = _ingest(world, make_violation(kind=ViolationKind.NO_HAT, t_s=0))
    false_alarm = _ingest(world, make_violation(kind=ViolationKind.NO_HAT, t_s=1))
    unreviewed = _ingest(world, make_violation(t_s=2))
    no_snapshot = _ingest(world, make_violation(t_s=3))
    for vid in (confirmed, false_alarm, unreviewed):
        _upload_snapshot(world, vid)
    assert _post(world, "supervisor", f"/api/v1/violations/{confirmed}/confirm")[0] == 200
    assert _post(world, "supervisor", f"/api/v1/violations/{confirmed}/confirm")[0] == 409
    assert (
        _post(
            world, "supervisor", f"/api/v1/violations/{false_alarm}/dismiss", json={"note": "a cap"}
        )[0]
        == 200
    )
    assert _post(world, "supervisor", f"/api/v1/violations/{no_snapshot}/confirm")[0] == 200

    storage = FilesystemStorage(world.components.settings.storage_dir)
    report = export_dataset(world.components.store, storage, tmp_path / "set")
    assert (report.confirmed, report.false_alarms, report.skipped) == (1, 1, 1)
    out = tmp_path / "set"
    assert (out / "classes.txt").read_text() == "head_bare\n"
    # the box 0.1..0.3 x 0.2..0.4 of make_violation, as YOLO centre and size
    label = (out / "labels" / f"{confirmed}.txt").read_text()
    assert label == "0 0.200000 0.300000 0.200000 0.200000\n"
    assert (out / "labels" / f"{false_alarm}.txt").read_text() == ""
    assert (out / "images" / f"{confirmed}.jpg").read_bytes() == jpeg_bytes()
    assert not (out / "images" / f"{unreviewed}.jpg").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["classes"] == ["head_bare"]
    verdicts = {item["violation_id"]: item["verdict"] for item in manifest["items"]}
    assert verdicts == {confirmed: "confirmed", false_alarm: "false_alarm"}
