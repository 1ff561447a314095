"""The role pages' server-rendered parts: camera health as the edges report it, scoped to the
caller's sites, in both languages; every camera state and incident word has its labels."""

from datetime import timedelta

import pytest

from api.web.i18n import MESSAGES
from contracts import CameraState, CameraStatus, EdgeState, EdgeStatus
from tests.api.world import World
from tests.fixtures.api import T0


def _report(world: World, site: str, state: EdgeState, cameras: dict[str, CameraState]) -> None:
    status = EdgeStatus(
        site=site,
        edge="edge-1",
        state=state,
        reported_at=T0,
        cameras={
            camera: CameraStatus(state=camera_state, since=T0 - timedelta(minutes=3))
            for camera, camera_state in cameras.items()
        },
    )
    assert world.components.store.upsert_status(status, received_at=T0)


def _states(html: str) -> list[str]:
    return [
        line.split('data-state="')[1].split('"')[0]
        for line in html.splitlines()
        if 'data-camera="' in line
    ]


@pytest.fixture
def reported(world: World) -> World:
    _report(
        world,
        "site-1",
        EdgeState.ONLINE,
        {"cam-1": CameraState.FROZEN, "cam-2": CameraState.BLURRED_OR_COVERED},
    )
    _report(world, "site-2", EdgeState.OFFLINE, {"cam-1": CameraState.ONLINE})
    _report(world, "site-3", EdgeState.ONLINE, {"cam-1": CameraState.ONLINE})
    return world


def test_supervisors_see_their_regions_camera_health(reported: World) -> None:
    page = reported.client.get("/supervisor", headers=reported.as_("supervisor"))
    assert page.status_code == 200
    # an offline edge's cameras are offline, whatever they last reported; site-3 is another region
    assert _states(page.text) == ["frozen", "blurred_or_covered", "offline"]
    for label in ("画面冻结", "画面模糊/遮挡", "离线"):
        assert f'class="camera-state">{label}<' in page.text
    english = reported.client.get("/supervisor?lang=en", headers=reported.as_("supervisor"))
    for label in ("Frozen", "Blurred or covered", "Offline"):
        assert f'class="camera-state">{label}<' in english.text


def test_staff_see_their_sites_camera_health(reported: World) -> None:
    page = reported.client.get("/staff", headers=reported.as_("staff"))
    assert page.status_code == 200
    assert _states(page.text) == ["frozen", "blurred_or_covered"]
    assert 'data-site="site-2"' not in page.text


def test_no_report_yet_says_so(world: World) -> None:
    page = world.client.get("/staff", headers=world.as_("staff"))
    assert "暂无设备上报" in page.text


def test_every_camera_state_and_incident_word_has_both_labels() -> None:
    keys = [f"camera_state_{state}" for state in CameraState]
    keys += ["ongoing", "lasted", "count", "duration", "camera_health"]
    for key in keys:
        assert all(MESSAGES[key]), key
    assert MESSAGES["camera_state_blurred_or_covered"][0] == "画面模糊/遮挡"


def test_the_api_documents_incidents_and_camera_states(world: World) -> None:
    document = world.client.get("/openapi.json", headers=world.as_("operator")).json()
    schemas = document["components"]["schemas"]
    assert set(schemas["CameraState"]["enum"]) == {state.value for state in CameraState}
    violation = schemas["ViolationPublic"]["properties"]
    assert {"track_id", "count", "ended_at", "duration_s", "max_count"} <= set(violation)
