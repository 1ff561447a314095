"""A small world for access tests: two regions, three sites, a user of every role, cameras,
edge devices and a parent's link, plus request headers that act as each of them."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from api.deps import Components
from api.main import create_app
from api.models import AreaType
from api.principal import Role
from api.settings import ApiSettings
from tests.fixtures.api import ACCESS_TOKEN, FakeClock, TestClient

PASSWORD = "correct horse battery"
NORTH_SITES = ("site-1", "site-2")
SOUTH_SITES = ("site-3",)


@dataclass
class World:
    client: TestClient
    clock: FakeClock
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # role name -> headers
    device_tokens: dict[str, str] = field(default_factory=dict)  # site -> edge token
    share_tokens: dict[str, str] = field(default_factory=dict)  # site -> share token

    @property
    def components(self) -> Components:
        components = self.client.app.state.components  # type: ignore[attr-defined]
        assert isinstance(components, Components)
        return components

    def session_headers(self, user_id: int | None) -> dict[str, str]:
        issued = self.components.sessions.create(user_id, now=self.clock())
        return {"Cookie": f"bk_session={issued.token}", "X-CSRF-Token": issued.csrf_token}

    def as_(self, who: str) -> dict[str, str]:
        return self.headers[who]


@dataclass(frozen=True)
class Population:
    headers: dict[str, dict[str, str]]  # role name -> request headers acting as it
    device_tokens: dict[str, str]  # site -> its edge-1's token
    share_tokens: dict[str, str]  # site -> a parent's link token


def populate(components: Components, now: datetime) -> Population:
    """Regions north (site-1, site-2) and south (site-3); two cameras per site (cam-1 public);
    an edge device and a parent's link per site; a user of each role, signed in."""
    registry = components.registry
    north = registry.create_region("north", "北区")
    south = registry.create_region("south", "南区")
    for code in NORTH_SITES:
        registry.create_site(code, f"食堂 {code}", north.id)
    for code in SOUTH_SITES:
        registry.create_site(code, f"食堂 {code}", south.id)
    device_tokens, share_tokens = {}, {}
    for site in (*NORTH_SITES, *SOUTH_SITES):
        registry.create_camera(site, "cam-1", "操作间", AreaType.COOKING, public=True)
        registry.create_camera(site, "cam-2", "库房", AreaType.STORAGE, public=False)
        device_tokens[site] = registry.create_device(site, "edge-1", now=now).http_token
        share_tokens[site] = registry.create_share_link(
            site, f"家长 {site}", now=now, valid_for=timedelta(days=7)
        ).token
    users = {
        "admin": registry.create_user("admin", PASSWORD, Role.ADMIN, now=now),
        "supervisor": registry.create_user(
            "sup-north", PASSWORD, Role.SUPERVISOR, now=now, region_id=north.id
        ),
        "supervisor-south": registry.create_user(
            "sup-south", PASSWORD, Role.SUPERVISOR, now=now, region_id=south.id
        ),
        "staff": registry.create_user("staff-1", PASSWORD, Role.STAFF, now=now, site="site-1"),
        "staff-other": registry.create_user(
            "staff-3", PASSWORD, Role.STAFF, now=now, site="site-3"
        ),
    }
    headers: dict[str, dict[str, str]] = {}
    for name, user in users.items():
        issued = components.sessions.create(user.id, now=now)
        headers[name] = {
            "Cookie": f"bk_session={issued.token}",
            "X-CSRF-Token": issued.csrf_token,
        }
    headers["operator"] = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    headers["edge"] = {"Authorization": f"Bearer {device_tokens['site-1']}"}
    headers["edge-south"] = {"Authorization": f"Bearer {device_tokens['site-3']}"}
    headers["parent"] = {"Cookie": f"bk_share={share_tokens['site-1']}"}
    headers["anonymous"] = {}
    return Population(headers, device_tokens, share_tokens)


def build_world(client: TestClient, clock: FakeClock) -> World:
    world = World(client, clock)
    population = populate(world.components, clock())
    world.headers.update(population.headers)
    world.device_tokens.update(population.device_tokens)
    world.share_tokens.update(population.share_tokens)
    return world


@pytest.fixture
def world(make_settings: Callable[..., ApiSettings], clock: FakeClock) -> Iterator[World]:
    # sessions outlive the weeks the escalation tests move the clock by
    settings = make_settings(
        session_max_age_s=60 * 86400, clip_max_bytes=65_536, snapshot_max_bytes=16_384
    )
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield build_world(client, clock)
