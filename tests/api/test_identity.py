"""Identity: argon2 hashes, login with rate limiting, expiring sessions, CSRF, share links,
edge tokens, and the create-admin command. Time is the injected FakeClock."""

import re
from datetime import timedelta
from pathlib import Path

import pytest

from api.__main__ import main
from api.credentials import PasswordHashing, WeakPasswordError, mosquitto_password_hash
from api.db import make_engine
from api.registry import RegistryStore
from api.sessions import LoginRateLimiter
from api.store import ViolationStore
from tests.api.world import PASSWORD, World
from tests.fixtures.api import FakeClock


def test_passwords_are_argon2id_hashes_that_verify_only_the_password() -> None:
    hashing = PasswordHashing(memory_kib=8, time_cost=1)
    stored = hashing.hash(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert hashing.verify(stored, PASSWORD)
    assert not hashing.verify(stored, PASSWORD + "x")
    assert not hashing.verify("not a hash", PASSWORD)
    assert hashing.hash(PASSWORD) != stored  # salted
    with pytest.raises(WeakPasswordError, match="at least 12"):
        hashing.hash("short")


def test_mosquitto_hashes_have_mosquittos_shape_and_a_fresh_salt() -> None:
    # that mosquitto accepts them is proved against the real broker in test_mosquitto_config
    stored = mosquitto_password_hash("secret")
    assert re.fullmatch(r"\$7\$1000\$[A-Za-z0-9+/=]{16}\$[A-Za-z0-9+/=]{88}", stored)
    assert mosquitto_password_hash("secret") != stored


def test_the_rate_limiter_counts_failures_per_user_and_address() -> None:
    clock = FakeClock()
    limiter = LoginRateLimiter(max_failures=3, window=timedelta(minutes=15))
    for _ in range(3):
        assert limiter.retry_after_s("alice", "10.0.0.1", now=clock()) == 0
        limiter.record_failure("Alice", "10.0.0.1", now=clock())
        clock.advance(seconds=10)
    assert limiter.retry_after_s("alice", "10.0.0.1", now=clock()) == pytest.approx(15 * 60 - 30)
    assert limiter.retry_after_s("alice", "10.0.0.2", now=clock()) == 0  # another address
    assert limiter.retry_after_s("bob", "10.0.0.1", now=clock()) == 0  # another user
    clock.advance(minutes=15)
    assert limiter.retry_after_s("alice", "10.0.0.1", now=clock()) == 0  # aged out
    limiter.record_failure("alice", "10.0.0.1", now=clock())
    limiter.record_success("alice", "10.0.0.1")
    assert limiter.retry_after_s("alice", "10.0.0.1", now=clock()) == 0


def _login(world: World, username: str, password: str) -> tuple[int, str | None]:
    response = world.client.post(
        "/login", data={"username": username, "password": password}, follow_redirects=False
    )
    cookie = response.cookies.get("bk_session")
    world.client.cookies.clear()
    return response.status_code, cookie


def test_login_is_rate_limited_and_sessions_expire(world: World) -> None:
    status, token = _login(world, "staff-1", PASSWORD)
    assert status == 303
    assert token is not None
    for _ in range(5):
        assert _login(world, "staff-1", "wrong password!") == (401, None)
    # now even the right password waits until the window has passed
    assert _login(world, "staff-1", PASSWORD) == (429, None)
    assert _login(world, "nobody", PASSWORD) == (401, None)  # unknown users answer alike
    world.clock.advance(minutes=15, seconds=1)
    status, fresh = _login(world, "staff-1", PASSWORD)
    assert status == 303
    headers = {"Cookie": f"bk_session={fresh}"}
    assert world.client.get("/api/v1/violations", headers=headers).status_code == 200
    world.clock.now += world.components.sessions.max_age  # API_SESSION_MAX_AGE_S
    assert world.client.get("/api/v1/violations", headers=headers).status_code == 401


def test_disabled_users_cannot_log_in_and_lose_their_sessions(world: World) -> None:
    staff = world.components.registry.user_by_name("staff-1")
    assert staff is not None
    response = world.client.patch(
        f"/api/v1/users/{staff.id}", json={"disabled": True}, headers=world.as_("admin")
    )
    assert response.status_code == 200
    assert world.client.get("/api/v1/violations", headers=world.as_("staff")).status_code == 401
    assert _login(world, "staff-1", PASSWORD) == (401, None)


def test_cookie_sessions_need_the_csrf_token_on_unsafe_methods(world: World) -> None:
    headers = dict(world.as_("admin"))
    body = {"code": "east", "name": "东区"}
    without = {"Cookie": headers["Cookie"]}
    assert world.client.post("/api/v1/regions", json=body, headers=without).status_code == 403
    wrong = {**without, "X-CSRF-Token": "forged"}
    assert world.client.post("/api/v1/regions", json=body, headers=wrong).status_code == 403
    assert world.client.post("/api/v1/regions", json=body, headers=headers).status_code == 201
    # bearer tokens are not sent by browsers on their own: no CSRF token needed
    operator = world.as_("operator")
    other = {"code": "west", "name": "西区"}
    assert world.client.post("/api/v1/regions", json=other, headers=operator).status_code == 201


def test_share_links_open_the_parent_view_until_they_expire(world: World) -> None:
    created = world.client.post(
        "/api/v1/sites/site-2/share-links",
        json={"label": "二年级家长", "valid_days": 1},
        headers=world.as_("admin"),
    )
    assert created.status_code == 201
    body = created.json()
    url = body["url"]
    assert re.fullmatch(r"http://testserver/share/[A-Za-z0-9_-]{43}", url)
    assert body["qr_svg"].startswith("<svg")
    token = url.rsplit("/", 1)[1]
    opened = world.client.get(f"/share/{token}", follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, "/parent")
    assert "HttpOnly" in opened.headers["set-cookie"]
    world.client.cookies.clear()
    parent = {"Cookie": f"bk_share={token}"}
    summary = world.client.get("/api/v1/parent/summary", headers=parent)
    assert summary.status_code == 200
    assert summary.json()["site"] == "site-2"
    assert world.client.get("/api/v1/violations", headers=parent).status_code == 403
    world.clock.advance(days=1)
    assert world.client.get("/api/v1/parent/summary", headers=parent).status_code == 401
    assert world.client.get(f"/share/{token}", follow_redirects=False).status_code == 404


def test_revoked_share_links_stop_working(world: World) -> None:
    links = world.client.get("/api/v1/share-links", headers=world.as_("admin")).json()
    site1 = next(link for link in links if link["site"] == "site-1")
    parent = world.as_("parent")
    assert world.client.get("/api/v1/parent/summary", headers=parent).status_code == 200
    revoked = world.client.delete(f"/api/v1/share-links/{site1['id']}", headers=world.as_("admin"))
    assert revoked.status_code == 204
    assert world.client.get("/api/v1/parent/summary", headers=parent).status_code == 401


def test_edge_devices_get_a_token_shown_once(world: World) -> None:
    created = world.client.post(
        "/api/v1/sites/site-2/devices", json={"edge": "edge-9"}, headers=world.as_("admin")
    )
    assert created.status_code == 201
    issued = created.json()
    assert issued["http_token"].startswith("bke_")
    assert issued["mqtt_username"] == "site-2.edge-9"
    listed = world.client.get("/api/v1/devices", headers=world.as_("admin")).json()
    assert all("http_token" not in device and "mqtt_password" not in device for device in listed)
    edge = {"Authorization": f"Bearer {issued['http_token']}"}
    assert world.client.get("/api/v1/violations", headers=edge).status_code == 403
    deleted = world.client.delete(f"/api/v1/devices/{issued['id']}", headers=world.as_("admin"))
    assert deleted.status_code == 204
    assert world.client.get("/api/v1/violations", headers=edge).status_code == 401


def test_create_admin_makes_a_user_who_can_log_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'bk.db'}"
    monkeypatch.setenv("API_DATABASE_URL", url)
    monkeypatch.setenv("API_PASSWORD_HASH_MEMORY_KIB", "8")
    monkeypatch.setenv("BK_ADMIN_PASSWORD", PASSWORD)
    assert main(["create-admin", "--username", "root"]) == 0
    assert main(["create-admin", "--username", "root"]) == 1  # exists already
    monkeypatch.setenv("BK_ADMIN_PASSWORD", "short")
    assert main(["create-admin", "--username", "other"]) == 1  # too weak
    engine = make_engine(url)
    try:
        registry = RegistryStore(
            ViolationStore(engine).database, PasswordHashing(memory_kib=8, time_cost=1)
        )
        user = registry.user_by_name("root")
        assert user is not None
        assert user.role == "admin"
        assert registry.passwords.verify(user.password_hash, PASSWORD)
        assert registry.user_by_name("other") is None
    finally:
        engine.dispose()
