"""Evidence and previews go from a real edge process to the real API over HTTP, with the device
token the API issued; evidence waits on the edge's disk while the API is down."""

import hashlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import av
import cv2
import httpx
import numpy as np
import pytest
import yaml

from api.previews import MJPEG_START, split_mjpeg
from brightkitchen.services.mosquitto import MosquittoBroker
from brightkitchen.services.ports import free_port
from edge.evidence.items import EvidenceKind, ItemState, file_name
from edge.evidence.store import EvidenceStore
from scenes.marker_video import write_marker_video
from tests.conftest import EDGE, SITE, BrokerUsers
from tests.integration.conftest import (
    REPO,
    ApiProcess,
    EdgeProcess,
    StartApi,
    StartEdge,
    edge_config,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

CAMERA = "cam-1"
PREVIEW_WIDTH_PX = 320
VIDEO_SIZE = (640, 360)
ADMIN = ("admin", "admin-password-0123")
SUPERVISOR = ("supervisor", "supervisor-password-0123")
# argon2's smallest cost: the passwords are hashed in the API process on a busy test machine
CHEAP_HASHING = {"API_PASSWORD_HASH_MEMORY_KIB": "8", "API_PASSWORD_HASH_TIME_COST": "1"}
EVIDENCE_KINDS = (EvidenceKind.SNAPSHOT, EvidenceKind.CLIP)


@pytest.fixture(scope="module")
def early_marker_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s at 10 fps, 640x360; the marker shows from 1 s to 7 s (an incident soon after start)."""
    path = tmp_path_factory.mktemp("videos") / "early_marker.mp4"
    write_marker_video(
        path, duration_s=8.0, fps=10, size=VIDEO_SIZE, marker_intervals_s=((1.0, 7.0),), seed=5
    )
    return path


@dataclass(frozen=True, slots=True)
class Deployment:
    """What an administrator set up for the canteen through the API."""

    device_token: str  # the edge's HTTP token, shown once
    share_path: str  # the parents' link, /share/<token>


def register_canteen(api: ApiProcess) -> Deployment:
    """As a deployment does it: the first admin by the CLI, the rest through the API as that
    admin (a password login, then the CSRF token of the page)."""
    created = subprocess.run(
        [sys.executable, "-m", "api", "create-admin", "--username", ADMIN[0]],
        cwd=REPO,
        env=api.env | {"BK_ADMIN_PASSWORD": ADMIN[1]},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    with logged_in(api, *ADMIN) as admin:
        found = re.search(r'data-csrf="([^"]+)"', admin.get("/supervisor").text)
        assert found is not None
        admin.headers["X-CSRF-Token"] = found.group(1)

        def post(path: str, body: dict[str, object]) -> dict[str, object]:
            response = admin.post(path, json=body)
            assert response.status_code == 201, response.text
            answer: dict[str, object] = response.json()
            return answer

        region = post("/api/v1/regions", {"code": "north", "name": "North district"})
        post("/api/v1/sites", {"code": SITE, "name": "School 1", "region_id": region["id"]})
        post(
            f"/api/v1/sites/{SITE}/cameras",
            {"code": CAMERA, "name": "Prep room", "area_type": "cooking", "public": True},
        )
        device = post(f"/api/v1/sites/{SITE}/devices", {"edge": EDGE})
        post(
            "/api/v1/users",
            {
                "username": SUPERVISOR[0],
                "password": SUPERVISOR[1],
                "role": "supervisor",
                "region_id": region["id"],
            },
        )
        link = post(f"/api/v1/sites/{SITE}/share-links", {"label": "parents of class 1"})
    token, url = device["http_token"], link["url"]
    assert isinstance(token, str)
    assert isinstance(url, str)
    return Deployment(device_token=token, share_path=httpx.URL(url).path)


@contextmanager
def logged_in(api: ApiProcess, username: str, password: str) -> Iterator[httpx.Client]:
    """A client signed in through the login form (its session cookie kept)."""
    with httpx.Client(base_url=api.base_url, timeout=30) as client:
        answer = client.post("/login", data={"username": username, "password": password})
        assert answer.status_code == 303, answer.text
        assert "bk_session" in client.cookies
        yield client


def write_edge_config(
    tmp_path: Path, broker: MosquittoBroker, users: BrokerUsers, video: Path, api_url: str
) -> Path:
    """The marker rule (one incident per test) with evidence, upload, preview and metrics."""
    return edge_config(
        tmp_path=tmp_path,
        broker=broker,
        users=users,
        cameras={CAMERA: str(video)},
        min_duration_s=1.0,
        detector={"workers": 1},
        evidence={
            "directory": str(tmp_path / "edge-evidence"),
            "pre_s": 1,
            "post_s": 1,
            "post_grace_s": 1,
            "ring_fps": 5,
            "clip_preset": "ultrafast",
        },
        upload={
            "base_url": api_url,
            "token": "${EDGE_API_TOKEN}",
            "timeout_s": 10,
            "retry_initial_s": 0.2,
            "retry_max_s": 1,
            "not_found_retry_s": 120,
        },
        preview={"fps": 2, "width_px": PREVIEW_WIDTH_PX},
        metrics={"listen": f"127.0.0.1:{free_port()}"},
    )


def metric(config_path: Path, edge: EdgeProcess, sample: str) -> float:
    """The value of one sample (`name` or `name{labels}`) on the edge's /metrics."""
    listen = yaml.safe_load(config_path.read_text())["metrics"]["listen"]
    assert edge.process.poll() is None, edge.log()[-3000:]
    text = httpx.get(f"http://{listen}/metrics", timeout=10).text
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    raise AssertionError(f"no sample {sample} in {text}")


def edge_metric(config_path: Path, edge: EdgeProcess, sample: str) -> float:
    """metric(), or -1 while the edge's metrics endpoint is not listening yet."""
    try:
        return metric(config_path, edge, sample)
    except httpx.TransportError:
        return -1.0


def the_violation(client: httpx.Client) -> dict[str, object] | None:
    response = client.get("/api/v1/violations")
    response.raise_for_status()
    items: list[dict[str, object]] = response.json()["items"]
    assert len(items) <= 1, items
    return items[0] if items else None


def evidence(client: httpx.Client, violation_id: UUID, kind: EvidenceKind) -> bytes | None:
    """The file as the API serves it, or None while it is not there."""
    response = client.get(f"/api/v1/violations/{violation_id}/{kind.value}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == kind.content_type
    return response.content


def assert_jpeg_and_h264(tmp_path: Path, snapshot: bytes, clip: bytes) -> None:
    image = cv2.imdecode(np.frombuffer(snapshot, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "the snapshot is not a JPEG"
    assert snapshot.startswith(b"\xff\xd8")
    clip_path = tmp_path / "downloaded.mp4"
    clip_path.write_bytes(clip)
    with av.open(str(clip_path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        first = next(container.decode(stream))
        assert (first.width, first.height) == VIDEO_SIZE


def wait_for_evidence(
    client: httpx.Client, violation_id: UUID, *, timeout_s: float
) -> dict[EvidenceKind, bytes]:
    found: dict[EvidenceKind, bytes] = {}

    def all_there() -> bool:
        for kind in EVIDENCE_KINDS:
            if kind not in found and (data := evidence(client, violation_id, kind)) is not None:
                found[kind] = data
        return len(found) == len(EVIDENCE_KINDS)

    wait_until(all_there, timeout_s=timeout_s, what="the snapshot and the clip in the API")
    return found


def preview_frames(client: httpx.Client, count: int) -> list[bytes]:
    """The first `count` JPEG frames of the camera's MJPEG stream."""
    url = f"/api/v1/sites/{SITE}/cameras/{CAMERA}/live.mjpeg"
    frames: list[bytes] = []
    # a long read timeout: the first frame waits for the edge to start on a busy machine
    with client.stream("GET", url, timeout=httpx.Timeout(10, read=90)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        buffer = b""
        opened = False
        for chunk in response.iter_bytes():
            buffer += chunk
            if not opened:
                if len(buffer) < len(MJPEG_START):
                    continue
                assert buffer.startswith(MJPEG_START)
                buffer, opened = buffer[len(MJPEG_START) :], True
            found, buffer = split_mjpeg(buffer)
            frames.extend(found)
            if len(frames) >= count:
                break
    return frames[:count]


def stop_edge(edge: EdgeProcess) -> None:
    edge.process.send_signal(signal.SIGINT)
    assert edge.process.wait(timeout=60) == 0, edge.log()[-3000:]


def edge_items(evidence_dir: Path, violation_id: UUID) -> dict[EvidenceKind, ItemState]:
    """Each of the violation's items and its upload state, from the (stopped) edge's store."""
    store = EvidenceStore(evidence_dir, quota_bytes=1 << 30)
    try:
        return {
            item.kind: item.state for item in store.items() if item.violation_id == violation_id
        }
    finally:
        store.close()


def test_evidence_and_previews_reach_the_api_with_the_edges_token(
    tmp_path: Path,
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    early_marker_video: Path,
    start_api: StartApi,
    start_edge: StartEdge,
) -> None:
    assert broker_users.edge.username == EDGE
    api = start_api(env=CHEAP_HASHING)
    deployment = register_canteen(api)
    config = write_edge_config(tmp_path, mosquitto, broker_users, early_marker_video, api.base_url)
    edge = start_edge(config, env={"EDGE_API_TOKEN": deployment.device_token})

    # a parent, through the share link, watches the camera: downscaled JPEGs from the edge
    with httpx.Client(base_url=api.base_url, timeout=30) as parent:
        assert parent.get(deployment.share_path).status_code == 303
        frames = preview_frames(parent, 2)
    assert len(frames) == 2
    assert frames[0] != frames[1], "the preview is live, not one frame repeated"
    for frame in frames:
        image = cv2.imdecode(np.frombuffer(frame, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        # the camera's 640x360 scaled down to the configured width
        assert image.shape[:2] == (
            VIDEO_SIZE[1] * PREVIEW_WIDTH_PX // VIDEO_SIZE[0],
            PREVIEW_WIDTH_PX,
        )

    with logged_in(api, *SUPERVISOR) as supervisor:
        wait_until(
            lambda: the_violation(supervisor) is not None,
            timeout_s=60,
            what="the violation in the API",
        )
        row = the_violation(supervisor)
        assert row is not None
        assert (row["site"], row["edge"], row["camera"]) == (SITE, EDGE, CAMERA)
        violation_id = UUID(str(row["violation_id"]))
        assert edge.published_ids() == {str(violation_id)}
        files = wait_for_evidence(supervisor, violation_id, timeout_s=60)
    assert_jpeg_and_h264(tmp_path, files[EvidenceKind.SNAPSHOT], files[EvidenceKind.CLIP])

    queue_depth = "brightkitchen_edge_upload_queue_depth"
    wait_until(lambda: metric(config, edge, queue_depth) == 0, timeout_s=30, what="no upload left")
    assert metric(config, edge, 'brightkitchen_edge_uploads_total{outcome="uploaded"}') == 2
    assert metric(config, edge, 'brightkitchen_edge_uploads_total{outcome="parked"}') == 0
    stop_edge(edge)
    evidence_dir = tmp_path / "edge-evidence"
    assert edge_items(evidence_dir, violation_id) == dict.fromkeys(EVIDENCE_KINDS, ItemState.ACKED)
    assert deployment.device_token not in edge.log()


def test_evidence_waits_on_the_edge_while_the_api_is_down_and_arrives_after(
    tmp_path: Path,
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    early_marker_video: Path,
    start_api: StartApi,
    start_edge: StartEdge,
) -> None:
    port = free_port()
    first = start_api(port=port, env=CHEAP_HASHING)  # subscribes: the broker keeps its session
    deployment = register_canteen(first)
    first.stop()
    config = write_edge_config(
        tmp_path, mosquitto, broker_users, early_marker_video, first.base_url
    )
    edge = start_edge(config, env={"EDGE_API_TOKEN": deployment.device_token})

    queue_depth = "brightkitchen_edge_upload_queue_depth"
    wait_until(
        lambda: edge_metric(config, edge, queue_depth) == len(EVIDENCE_KINDS),
        timeout_s=60,
        what="the snapshot and the clip waiting on the edge",
    )
    (violation_id,) = (UUID(text) for text in edge.published_ids())
    files_dir = tmp_path / "edge-evidence" / "files"
    on_disk = {kind: files_dir / file_name(violation_id, kind) for kind in EVIDENCE_KINDS}
    assert all(path.is_file() for path in on_disk.values())
    wait_until(
        lambda: metric(config, edge, 'brightkitchen_edge_uploads_total{outcome="unavailable"}') > 0,
        timeout_s=30,
        what="a failed upload attempt",
    )
    assert metric(config, edge, 'brightkitchen_edge_uploads_total{outcome="uploaded"}') == 0
    kept = {kind: path.read_bytes() for kind, path in on_disk.items()}

    second = start_api(port=port, env=CHEAP_HASHING)  # the same database and MQTT session
    with logged_in(second, *SUPERVISOR) as supervisor:
        wait_until(
            lambda: the_violation(supervisor) is not None,
            timeout_s=60,
            what="the violation queued by the broker",
        )
        files = wait_for_evidence(supervisor, violation_id, timeout_s=60)
    assert {kind: hashlib.sha256(data).digest() for kind, data in files.items()} == {
        kind: hashlib.sha256(data).digest() for kind, data in kept.items()
    }
    assert_jpeg_and_h264(tmp_path, files[EvidenceKind.SNAPSHOT], files[EvidenceKind.CLIP])
    wait_until(lambda: metric(config, edge, queue_depth) == 0, timeout_s=30, what="no upload left")
    stop_edge(edge)
    evidence_dir = tmp_path / "edge-evidence"
    assert edge_items(evidence_dir, violation_id) == dict.fromkeys(EVIDENCE_KINDS, ItemState.ACKED)
