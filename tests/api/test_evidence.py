"""Evidence uploads and playback: abuse is refused (size, type, checksum, names, another
site's ids), re-uploads are idempotent, clips play with HTTP range requests, retention keeps
open cases' files."""

import hashlib
import logging
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from api.db import make_engine
from api.models import CaseState, EvidenceKind
from api.retention import RetentionPolicy, apply_retention
from api.storage import FilesystemStorage, StorageKeyError, check_key
from tests.api.media import jpeg_bytes, mp4_bytes, png_bytes
from tests.api.world import World
from tests.fixtures.api import MakeViolation

CLIP = mp4_bytes(seconds=1.0)


def _put(
    world: World,
    path: str,
    data: bytes,
    *,
    who: str = "edge",
    content_type: str = "video/mp4",
    sha256: str | None = "auto",
) -> tuple[int, str]:
    headers = {**world.as_(who), "Content-Type": content_type}
    if sha256 == "auto":
        headers["X-Content-SHA256"] = hashlib.sha256(data).hexdigest()
    elif sha256 is not None:
        headers["X-Content-SHA256"] = sha256
    response = world.client.put(path, content=data, headers=headers)
    return response.status_code, response.text


@pytest.fixture
def violation_id(world: World, make_violation: MakeViolation) -> str:
    event = make_violation(site="site-1")
    assert world.components.store.insert_if_new(event, received_at=world.clock())
    return str(event.violation_id)


def test_a_clip_is_stored_once_and_a_different_one_is_a_conflict(
    world: World, violation_id: str
) -> None:
    path = f"/api/v1/edge/violations/{violation_id}/clip"
    assert _put(world, path, CLIP)[0] == 201
    assert _put(world, path, CLIP)[0] == 200  # a retry after a lost answer
    assert _put(world, path, CLIP + b"\x00")[0] == 409
    case = world.client.get(f"/api/v1/violations/{violation_id}/case", headers=world.as_("staff"))
    clips = [e for e in case.json()["evidence"] if e["kind"] == "clip"]
    assert [(c["size_bytes"], c["sha256"]) for c in clips] == [
        (len(CLIP), hashlib.sha256(CLIP).hexdigest())
    ]
    assert case.json()["violation"]["has_clip"] is True
    stored = list((world.components.settings.storage_dir / "clip" / "site-1").iterdir())
    assert [p.name for p in stored] == [f"{violation_id}.mp4"]  # named by ids only


@pytest.mark.parametrize(
    ("kind", "data", "content_type", "sha256", "status", "reason"),
    [
        ("clip", b"\x00" * 70_000, "video/mp4", "auto", 413, "exceed"),
        ("clip", jpeg_bytes(), "video/mp4", "auto", 415, "must be video/mp4"),
        ("clip", CLIP, "image/jpeg", "auto", 415, "declared image/jpeg"),
        ("snapshot", png_bytes(), "image/jpeg", "auto", 415, "must be image/jpeg"),
        ("snapshot", b"<html><script>alert(1)</script>", "image/jpeg", "auto", 415, "must be"),
        ("clip", CLIP, "video/mp4", "0" * 64, 422, "does not match"),
        ("clip", CLIP, "video/mp4", "not-hex", 422, "not 64 hex"),
        ("clip", CLIP, "video/mp4", None, 422, "required"),
        ("clip", b"", "video/mp4", "auto", 422, "empty"),
    ],
)
def test_abusive_uploads_are_refused_with_the_reason(
    world: World,
    violation_id: str,
    kind: str,
    data: bytes,
    content_type: str,
    sha256: str | None,
    status: int,
    reason: str,
) -> None:
    path = f"/api/v1/edge/violations/{violation_id}/{kind}"
    code, text = _put(world, path, data, content_type=content_type, sha256=sha256)
    assert (code, reason in text) == (status, True), text
    assert not world.components.evidence.of_violation(UUID(violation_id))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/edge/violations/..%2F..%2Fetc%2Fpasswd/clip",
        "/api/v1/edge/violations/../../etc/passwd/clip",
        "/api/v1/edge/violations/%2e%2e/clip",
        "/api/v1/edge/cameras/..%2Fcam-1/preview",
        "/api/v1/edge/cameras/cam-1%00/preview",
    ],
)
def test_path_tricks_never_reach_the_disk(world: World, path: str) -> None:
    code, _ = _put(world, path, CLIP)
    assert code in (404, 422)
    root = world.components.settings.storage_dir
    assert not any(p.is_file() for p in root.rglob("*"))


def test_storage_keys_are_made_of_ids_only(tmp_path: Path) -> None:
    for bad in ("../x.mp4", "clip/../../x.mp4", "/etc/passwd", "clip/a b.mp4", "clip/x.sh"):
        with pytest.raises(StorageKeyError):
            check_key(bad)
    FilesystemStorage(tmp_path).put("clip/site-1/abc.mp4", b"x")
    assert (tmp_path / "clip" / "site-1" / "abc.mp4").read_bytes() == b"x"


def test_an_edge_cannot_upload_for_another_sites_violation(
    world: World, make_violation: MakeViolation
) -> None:
    other = make_violation(site="site-3")
    assert world.components.store.insert_if_new(other, received_at=world.clock())
    path = f"/api/v1/edge/violations/{other.violation_id}/clip"
    code, text = _put(world, path, CLIP)  # the site-1 edge replays a site-3 id
    assert (code, f"violation {other.violation_id} not found" in text) == (404, True)
    unknown = "/api/v1/edge/violations/5b7c8f3e-1d2a-4c3b-9e8f-0a1b2c3d4e5f/clip"
    assert _put(world, unknown, CLIP)[0] == 404  # the same answer as for no such violation
    assert _put(world, path, CLIP, who="staff-other")[0] == 403  # users never upload clips


def test_clips_play_with_range_requests(world: World, violation_id: str) -> None:
    assert _put(world, f"/api/v1/edge/violations/{violation_id}/clip", CLIP)[0] == 201
    url = f"/api/v1/violations/{violation_id}/clip"
    staff = world.as_("staff")
    whole = world.client.get(url, headers=staff)
    assert (whole.status_code, whole.content) == (200, CLIP)
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    size = len(CLIP)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-10": (size - 10, size - 1),
        f"bytes=10-{size + 500}": (10, size - 1),
    }
    for header, (start, end) in cases.items():
        part = world.client.get(url, headers={**staff, "Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert part.content == CLIP[start : end + 1]
    for header in (f"bytes={size}-", "bytes=9-3", "bytes=abc", "items=0-1"):
        refused = world.client.get(url, headers={**staff, "Range": header})
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{size}"
    assert world.client.get(url, headers=world.as_("parent")).status_code == 403  # never clips
    assert world.client.get(url, headers=world.as_("staff-other")).status_code == 404


def test_retention_deletes_closed_cases_evidence_by_age_then_quota_and_logs_it(
    world: World, make_violation: MakeViolation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.retention")
    components = world.components
    store, evidence = components.store, components.evidence
    ids = []
    for t_s in range(4):
        event = make_violation(t_s=t_s)
        store.insert_if_new(event, received_at=world.clock())
        ids.append(event.violation_id)
        _put(world, f"/api/v1/edge/violations/{event.violation_id}/clip", CLIP)
        world.clock.advance(days=10)
    old_closed, open_case, new_closed, newest_closed = ids
    for vid in (old_closed, new_closed, newest_closed):
        dismissed = world.client.post(
            f"/api/v1/violations/{vid}/dismiss",
            json={"note": "false alarm"},
            headers=world.as_("supervisor"),
        )
        assert dismissed.status_code == 200
    assert store.get(open_case) is not None
    database, storage = store.database, evidence.storage
    size = len(CLIP)
    # by age: only the closed case older than 25 days; the open one is older still and stays
    report = apply_retention(
        database,
        storage,
        RetentionPolicy(max_age=timedelta(days=25), quota_bytes=10 * size),
        now=world.clock(),
    )
    assert (report.deleted_by_age, report.deleted_by_quota) == (1, 0)
    assert not evidence.of_violation(old_closed)
    # by quota: the oldest closed first, never the open case, even while still over quota
    report = apply_retention(
        database,
        storage,
        RetentionPolicy(max_age=timedelta(days=365), quota_bytes=1),
        now=world.clock(),
    )
    assert (report.deleted_by_age, report.deleted_by_quota) == (0, 2)
    assert report.over_quota_open_bytes == size - 1
    assert [e.kind for e in evidence.of_violation(open_case)] == [EvidenceKind.CLIP.value]
    assert storage.exists(evidence.of_violation(open_case)[0].storage_key)
    assert "evidence deleted reason=quota" in caplog.text
    engine = make_engine(components.settings.database_url)
    with engine.connect() as connection:
        reasons = (
            connection.exec_driver_sql("SELECT reason FROM evidence_deletions ORDER BY id")
            .scalars()
            .all()
        )
    engine.dispose()
    assert reasons == ["age", "quota", "quota"]
    still_open = store.get(open_case)
    assert still_open is not None
    assert still_open.state == CaseState.NEW
