"""HTTP routes through FastAPI's TestClient: auth, filters, pages, 404, health, metrics, page."""

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from api.deps import Components
from api.main import create_app
from api.settings import ApiSettings
from contracts import EdgeState, ViolationEvent, ViolationKind
from tests.fixtures.api import ACCESS_TOKEN, AUTH, T0, MakeViolation, TestClient, make_status

PROTECTED = [
    "/api/v1/violations",
    "/api/v1/violations/5b7c8f3e-1d2a-4c3b-9e8f-0a1b2c3d4e5f",
    "/api/v1/edges",
    "/api/v1/live",
    "/metrics",
]


@pytest.fixture
def client(make_settings: Callable[..., ApiSettings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(page_size_default=3, page_size_max=3))) as client:
        yield client


def _components(client: TestClient) -> Components:
    components = client.app.state.components  # type: ignore[attr-defined]
    assert isinstance(components, Components)
    return components


def _store(client: TestClient, *events: ViolationEvent) -> None:
    for event in events:
        assert _components(client).store.insert_if_new(event, received_at=T0)


@pytest.mark.parametrize("path", PROTECTED)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-wrong-token"},
        {"Authorization": f"Basic {ACCESS_TOKEN}"},
        {"Authorization": f"Bearer {ACCESS_TOKEN}x"},
        {"Cookie": f"bk_session={ACCESS_TOKEN}"},  # the cookie is not the token itself
    ],
)
def test_every_route_but_health_needs_the_token(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_health_is_open(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "ingest": "disabled"}


def csrf_of(page_html: str) -> str:
    found = re.search(r'data-csrf="([^"]+)"', page_html)
    assert found is not None, "the page carries no CSRF token"
    return found.group(1)


def test_login_link_sets_a_session_cookie_that_opens_the_api(client: TestClient) -> None:
    assert client.get(f"/login?token={ACCESS_TOKEN}x", follow_redirects=False).status_code == 401
    response = client.get(f"/login?token={ACCESS_TOKEN}", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert ACCESS_TOKEN not in cookie
    assert client.get("/api/v1/violations").status_code == 200  # the client keeps the cookie
    landing = client.get("/", follow_redirects=False)
    assert (landing.status_code, landing.headers["location"]) == (303, "/supervisor")
    csrf = csrf_of(client.get("/supervisor").text)
    assert client.post("/logout", follow_redirects=False).status_code == 403  # no CSRF token
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/api/v1/violations").status_code == 401


def test_login_form(client: TestClient) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    page = client.get("/login")
    assert page.status_code == 200
    assert 'action="/login"' in page.text
    assert 'name="token"' in page.text
    assert 'name="password"' in page.text
    refused = client.post("/login", data={"token": "not-the-token-at-all"}, follow_redirects=False)
    assert refused.status_code == 401
    assert "Invalid token" in refused.text
    accepted = client.post("/login", data={"token": ACCESS_TOKEN}, follow_redirects=False)
    assert accepted.status_code == 303
    assert client.get("/api/v1/edges").status_code == 200


def test_list_filters_pages_and_totals(client: TestClient, make_violation: MakeViolation) -> None:
    events = [
        make_violation(t_s=0, camera="cam-1"),
        make_violation(t_s=10, camera="cam-2", kind=ViolationKind.RODENT, severity=1),
        make_violation(t_s=20, camera="cam-1", kind=ViolationKind.NO_MASK),
        make_violation(t_s=30, site="site-2", camera="cam-1"),
    ]
    _store(client, *events)

    def ids(query: str) -> tuple[list[str], int]:
        response = client.get(f"/api/v1/violations?{query}", headers=AUTH)
        assert response.status_code == 200, response.text
        body = response.json()
        by_id = {str(event.violation_id): str(index) for index, event in enumerate(events)}
        return [by_id[item["violation_id"]] for item in body["items"]], body["total"]

    assert ids("") == (["3", "2", "1"], 4)  # newest first, 3 a page
    assert ids("limit=2&offset=2") == (["1", "0"], 4)
    assert ids("site=site-1") == (["2", "1", "0"], 3)
    assert ids("site=site-1&camera=cam-1") == (["2", "0"], 2)
    assert ids("kind=rodent") == (["1"], 1)
    assert ids("since=2025-03-01T08:00:10Z&until=2025-03-01T16:00:30%2B08:00") == (["2", "1"], 2)
    body = client.get("/api/v1/violations?kind=rodent", headers=AUTH).json()
    (item,) = body["items"]
    assert (body["limit"], body["offset"]) == (3, 0)
    assert item["occurred_at"] == "2025-03-01T08:00:10Z"
    assert item["boxes"][0]["label"] == "head_bare"
    assert (item["kind"], item["severity"], item["camera"]) == ("rodent", 1, "cam-2")


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("limit=4", "limit"),  # over API_PAGE_SIZE_MAX
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("kind=teleport", "kind"),
        ("site=site%2F1", "site"),
        ("camera=%23", "camera"),
        ("since=2025-03-01T08:00:00", "since"),  # naive
        ("since=yesterday", "since"),
        ("since=2025-03-01T09:00:00Z&until=2025-03-01T08:00:00Z", "since"),
    ],
)
def test_bad_queries_are_422_naming_the_parameter(
    client: TestClient, query: str, names: str
) -> None:
    response = client.get(f"/api/v1/violations?{query}", headers=AUTH)
    assert response.status_code == 422
    assert names in response.text


def test_get_one_violation_or_404(client: TestClient, make_violation: MakeViolation) -> None:
    event = make_violation()
    _store(client, event)
    found = client.get(f"/api/v1/violations/{event.violation_id}", headers=AUTH)
    assert found.status_code == 200
    assert found.json()["violation_id"] == str(event.violation_id)
    assert found.json()["received_at"] == "2025-03-01T08:00:00Z"
    missing = make_violation().violation_id
    response = client.get(f"/api/v1/violations/{missing}", headers=AUTH)
    assert response.status_code == 404
    assert str(missing) in response.json()["detail"]
    assert client.get("/api/v1/violations/not-a-uuid", headers=AUTH).status_code == 422


def test_edges_list_the_last_status(client: TestClient) -> None:
    store = _components(client).store
    store.upsert_status(make_status(EdgeState.ONLINE, reported_at=T0), received_at=T0)
    store.upsert_status(
        make_status(EdgeState.OFFLINE, reported_at=T0 + timedelta(seconds=5)), received_at=T0
    )
    body = client.get("/api/v1/edges", headers=AUTH).json()
    assert body == [
        {
            "site": "site-1",
            "edge": "edge-1",
            "state": "offline",
            "reported_at": "2025-03-01T08:00:05Z",
            "received_at": "2025-03-01T08:00:00Z",
            "cameras": {"cam-1": {"state": "online", "since": "2025-03-01T08:00:05Z"}},
        }
    ]


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert 'brightkitchen_ingest_rejected_total{reason="schema"} 0' in lines
    assert 'brightkitchen_ingest_violations_total{outcome="accepted"} 0' in lines
    assert "brightkitchen_live_subscribers 0" in lines
    assert not any(line.startswith("brightkitchen_ingest_connected") for line in lines)
    for figure in (
        "brightkitchen_ingest_lag_seconds_count 0",
        "brightkitchen_ingest_lag_last_seconds 0",
        "brightkitchen_live_viewers 0",
        "brightkitchen_preview_frames_total 0",
        "brightkitchen_storage_used_bytes 0",
    ):
        assert figure in lines


def test_openapi_document_describes_the_api(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert {
        "/api/v1/violations",
        "/api/v1/violations/{violation_id}",
        "/api/v1/edges",
        "/api/v1/live",
        "/healthz",
        "/metrics",
    } <= set(document["paths"])
    assert {"ViolationPublic", "ViolationPage", "EdgeStatusPublic"} <= set(
        document["components"]["schemas"]
    )
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN


def test_the_queue_page_loads_only_from_itself(client: TestClient) -> None:
    page = client.get("/supervisor", headers=AUTH)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text
    assert "https://" not in page.text
    assert '"en": "Rodent"' in page.text  # the kind names travel with the page
    script = client.get("/static/app.js")
    assert script.status_code == 200
    assert "EventSource" in script.text
    assert client.get("/static/supervisor.js").status_code == 200
