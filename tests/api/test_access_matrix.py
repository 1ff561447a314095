"""Every route of the app against every role: the issue's table, enforced.

The table below names, for each route, the roles that may call it. The test walks app.routes,
so a route added without an entry here (or without a guard) fails it. Out-of-scope objects
answer 404 exactly like missing ones, never 403.
"""

from uuid import uuid4

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from api.access import Allow, Public
from tests.api.world import World
from tests.fixtures.api import MakeViolation

ADMINS = frozenset({"admin", "operator"})
READERS = ADMINS | {"supervisor", "staff"}
EVERYONE = frozenset({"anonymous", "parent", "edge"}) | READERS
ROLES = sorted(EVERYONE)
PAGES = frozenset({"/parent", "/staff", "/supervisor", "/admin"})
STREAMS = frozenset({"/api/v1/live", "/api/v1/sites/{site}/cameras/{camera}/live.mjpeg"})

V = "/api/v1/violations/{violation_id}"
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/violations"): READERS,
    ("GET", V): READERS,
    ("GET", f"{V}/case"): READERS,
    ("POST", f"{V}/acknowledge"): frozenset({"staff"}),
    ("POST", f"{V}/rectify"): frozenset({"staff"}),
    ("POST", f"{V}/verify"): frozenset({"supervisor"}),
    ("POST", f"{V}/send-back"): frozenset({"supervisor"}),
    ("POST", f"{V}/dismiss"): frozenset({"supervisor"}),
    ("POST", f"{V}/confirm"): frozenset({"supervisor"}),
    ("POST", f"{V}/deadline"): frozenset({"supervisor"}),
    ("GET", f"{V}/clip"): READERS,
    ("GET", f"{V}/snapshot"): READERS,
    ("GET", f"{V}/photos/{{evidence_id}}"): READERS,
    ("PUT", "/api/v1/edge/violations/{violation_id}/clip"): frozenset({"edge"}),
    ("PUT", "/api/v1/edge/violations/{violation_id}/snapshot"): frozenset({"edge"}),
    ("PUT", "/api/v1/edge/cameras/{camera}/preview"): frozenset({"edge"}),
    ("GET", "/api/v1/live"): READERS,
    ("GET", "/api/v1/sites/{site}/cameras/{camera}/live.mjpeg"): READERS | {"parent"},
    ("GET", "/api/v1/sites/{site}/cameras/{camera}/preview.jpg"): READERS,
    ("GET", "/api/v1/regions"): READERS,
    ("POST", "/api/v1/regions"): ADMINS,
    ("GET", "/api/v1/sites"): READERS,
    ("POST", "/api/v1/sites"): ADMINS,
    ("GET", "/api/v1/sites/{site}/cameras"): READERS,
    ("POST", "/api/v1/sites/{site}/cameras"): ADMINS,
    ("PATCH", "/api/v1/sites/{site}/cameras/{camera}"): ADMINS,
    ("GET", "/api/v1/sites/{site}/cameras/{camera}/zones"): READERS,
    ("PUT", "/api/v1/sites/{site}/cameras/{camera}/zones"): ADMINS,
    ("GET", "/api/v1/users"): ADMINS,
    ("POST", "/api/v1/users"): ADMINS,
    ("PATCH", "/api/v1/users/{user_id}"): ADMINS,
    ("GET", "/api/v1/devices"): ADMINS,
    ("POST", "/api/v1/sites/{site}/devices"): ADMINS,
    ("DELETE", "/api/v1/devices/{device_id}"): ADMINS,
    ("GET", "/api/v1/share-links"): ADMINS,
    ("POST", "/api/v1/sites/{site}/share-links"): ADMINS,
    ("DELETE", "/api/v1/share-links/{link_id}"): ADMINS,
    ("GET", "/api/v1/stats"): READERS,
    ("GET", "/api/v1/parent/summary"): frozenset({"parent"}),
    ("GET", "/api/v1/edges"): READERS,
    ("GET", "/metrics"): ADMINS,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/logout"): READERS,
    ("GET", "/share/{token}"): EVERYONE,
    ("GET", "/parent"): frozenset({"parent"}),
    ("GET", "/staff"): frozenset({"staff"}) | ADMINS,
    ("GET", "/supervisor"): frozenset({"supervisor"}) | ADMINS,
    ("GET", "/admin"): ADMINS,
}
OPEN_NON_API = {"/openapi.json", "/static"}  # the OpenAPI document, the pages' static files


def _api_routes(routes: list[BaseRoute]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers; anything else must be known to be open."""
    found: list[APIRoute] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found.extend(_api_routes(included.routes))
        elif isinstance(route, APIRoute):
            found.append(route)
        else:
            assert isinstance(route, Route | Mount), route
            assert route.path in OPEN_NON_API, f"unguarded route {route.path}"
    return found


def _guards(route: APIRoute) -> list[Allow | Public]:
    guards: list[Allow | Public] = []
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, Allow | Public):
            guards.append(dependency.call)
        pending.extend(dependency.dependencies)
    return guards


def _endpoints(world: World) -> list[tuple[str, str]]:
    app = world.client.app
    routes = _api_routes(app.routes)  # type: ignore[attr-defined]
    endpoints = [(method, route.path) for route in routes for method in route.methods or ()]
    for route in routes:
        assert len(_guards(route)) == 1, f"{route.path} needs exactly one Allow or Public guard"
    return endpoints


def test_every_route_is_in_the_table_and_guarded(world: World) -> None:
    assert sorted(_endpoints(world)) == sorted(EXPECTED)


def _fill(path: str, violation_id: str) -> str:
    return (
        path.replace("{violation_id}", violation_id)
        .replace("{site}", "site-1")
        .replace("{camera}", "cam-1")
        .replace("{evidence_id}", "1")
        .replace("{user_id}", "999999")
        .replace("{device_id}", "999999")
        .replace("{link_id}", "999999")
        .replace("{token}", "no-such-link")
    )


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_says(
    world: World, make_violation: MakeViolation, role: str
) -> None:
    event = make_violation(site="site-1")
    assert world.components.store.insert_if_new(event, received_at=world.clock())
    failures = []
    # /logout last: it ends the session the other requests use
    for method, path in sorted(EXPECTED, key=lambda endpoint: (endpoint[1] == "/logout", endpoint)):
        allowed = role in EXPECTED[(method, path)]
        if allowed and path in STREAMS:
            continue  # they never end; tests/api/test_live_scoping.py streams them for real
        body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
        response = world.client.request(
            method,
            _fill(path, str(event.violation_id)),
            headers=world.as_(role),
            json=body,
            follow_redirects=False,
        )
        code = response.status_code
        if allowed:
            ok = code not in (401, 403)
        elif role == "anonymous":
            ok = code == (303 if path in PAGES else 401)
        else:
            ok = code == 403
        if not ok:
            failures.append(f"{role} {method} {path} -> {code} {response.text[:80]}")
    assert failures == []


def test_other_sites_objects_answer_404_like_missing_ones(
    world: World, make_violation: MakeViolation
) -> None:
    far = make_violation(site="site-3")
    near = make_violation(site="site-1")
    for event in (far, near):
        assert world.components.store.insert_if_new(event, received_at=world.clock())
    get = world.client.get
    missing = get(f"/api/v1/violations/{uuid4()}", headers=world.as_("admin"))
    assert missing.status_code == 404
    for role in ("staff", "supervisor"):
        hidden = get(f"/api/v1/violations/{far.violation_id}", headers=world.as_(role))
        assert hidden.status_code == 404
        assert hidden.json()["detail"] == f"violation {far.violation_id} not found"
        assert get(f"/api/v1/violations/{near.violation_id}", headers=world.as_(role)).is_success
        listed = get("/api/v1/violations", headers=world.as_(role)).json()["items"]
        assert {item["site"] for item in listed} == {"site-1"}
        assert get("/api/v1/sites/site-3/cameras", headers=world.as_(role)).status_code == 404
    for role in ("staff-other", "supervisor-south", "admin", "operator"):
        found = get(f"/api/v1/violations/{far.violation_id}", headers=world.as_(role))
        assert found.status_code == 200
    staff_sites = get("/api/v1/sites", headers=world.as_("staff")).json()
    assert [site["code"] for site in staff_sites] == ["site-1"]
    north = get("/api/v1/sites", headers=world.as_("supervisor")).json()
    assert [site["code"] for site in north] == ["site-1", "site-2"]
    acted = world.client.post(
        f"/api/v1/violations/{far.violation_id}/acknowledge", headers=world.as_("staff")
    )
    assert acted.status_code == 404
    stats = get("/api/v1/stats", headers=world.as_("supervisor")).json()
    assert {row["site"] for row in stats["per_site"]} == {"site-1", "site-2"}


def test_parents_see_only_their_sites_public_cameras(world: World) -> None:
    parent = world.as_("parent")
    summary = world.client.get("/api/v1/parent/summary", headers=parent).json()
    assert [camera["code"] for camera in summary["cameras"]] == ["cam-1"]  # cam-2 is private
    for path in (
        "/api/v1/sites/site-1/cameras/cam-2/live.mjpeg",  # private camera
        "/api/v1/sites/site-3/cameras/cam-1/live.mjpeg",  # another school
        "/api/v1/sites/site-1/cameras/cam-9/live.mjpeg",  # no such camera
    ):
        assert world.client.get(path, headers=parent).status_code == 404, path
