"""Real Chromium on the role pages: the parent's live view, the staff console, the supervisor's
queue with clip, review and charts, and the operator's live list. Nothing loads from outside."""

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import APIResponse, Browser, Page, Route, expect

from api.settings import ApiSettings
from brightkitchen.services.mosquitto import MosquittoBroker
from contracts import ViolationKind, encode, violation_end_topic, violation_topic
from tests.api.ends import end_of
from tests.api.media import jpeg_bytes, mp4_bytes
from tests.api.world import Population, populate
from tests.conftest import BrokerUsers
from tests.fixtures.api import (
    ACCESS_TOKEN,
    MakeViolation,
    MqttTestPublisher,
    ThreadedApi,
    mqtt_settings,
    wait_for,
)
from tests.fixtures.chromium import chromium

pytestmark = pytest.mark.integration

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def site_api(
    make_settings: Callable[..., ApiSettings], mosquitto: MosquittoBroker, broker_users: BrokerUsers
) -> Iterator[tuple[ThreadedApi, Population]]:
    with ThreadedApi(make_settings(**mqtt_settings(mosquitto, broker_users.api))) as api:
        ingest = api.components.ingest
        assert ingest is not None
        assert ingest.wait_ready(timeout_s=20)
        yield api, populate(api.components, api.components.clock())


def _page_as(browser: Browser, api: ThreadedApi, headers: dict[str, str], **kw: object) -> Page:
    context = browser.new_context(**kw)  # type: ignore[arg-type]
    name, _, value = headers["Cookie"].partition("=")
    context.add_cookies([{"name": name, "value": value, "url": api.base_url}])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("pageerror", lambda error: failed.append(str(error)))
    page.context.__dict__["bk_failures"] = failed
    return page


def _wait_in_page(page: Page, expression: str) -> None:
    """Poll `expression` from outside (wait_for_function would eval in the page, which the
    pages' Content-Security-Policy rightly forbids)."""
    wait_for(lambda: page.evaluate(expression) is True, timeout_s=20, what=expression)


def _wait_live(page: Page, api: ThreadedApi) -> None:
    """The page says it is live and the API holds its one event stream."""
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")
    wait_for(lambda: api.components.hub.subscriber_count == 1, timeout_s=10, what="the SSE")


def _hold_requests(page: Page, part: str) -> list[tuple[Route, APIResponse]]:
    """Requests whose URL contains `part` are answered by the server at once, but the answer
    reaches the page only when the test fulfils the route with it (a slow network, on cue)."""
    held: list[tuple[Route, APIResponse]] = []
    page.route(lambda url: part in url, lambda route: held.append((route, route.fetch())))
    return held


def _first_held(page: Page, held: list[tuple[Route, APIResponse]]) -> tuple[Route, APIResponse]:
    # Playwright's sync API runs route handlers only inside its own calls: wait in one.
    for _ in range(200):
        if held:
            return held[0]
        page.wait_for_timeout(100)
    raise AssertionError("no request was held")


def _edge_put(api: ThreadedApi, population: Population, path: str, data: bytes, kind: str) -> None:
    response = httpx.put(
        api.base_url + path,
        content=data,
        headers={
            **population.headers["edge"],
            "Content-Type": kind,
            "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
        },
    )
    assert response.is_success, response.text


def test_a_parent_opens_the_share_link_and_sees_the_live_preview(
    browser: Browser, site_api: tuple[ThreadedApi, Population]
) -> None:
    api, population = site_api
    frame = jpeg_bytes(width=320, height=180)
    _edge_put(api, population, "/api/v1/edge/cameras/cam-1/preview", frame, "image/jpeg")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        # an MJPEG image never finishes loading: the page is ready once its DOM is
        page.goto(
            f"{api.base_url}/share/{population.share_tokens['site-1']}",
            wait_until="domcontentloaded",
        )
        assert page.url == f"{api.base_url}/parent"
        live = page.locator("#live-cam-1")
        expect(live).to_be_visible()
        _wait_in_page(page, "document.querySelector('#live-cam-1').naturalWidth === 320")
        expect(page.locator("#live-cam-2")).to_have_count(0)  # the private camera is not shown
        expect(page.locator("#violations-today")).to_have_text("0")
        expect(page.locator("#score")).to_have_text("100")
        wait_for(
            lambda: api.components.previews.viewer_count == 1,
            timeout_s=10,
            what="the page's MJPEG viewer",
        )
        page.goto(f"{api.base_url}/parent?lang=en", wait_until="domcontentloaded")
        expect(page.locator("h2").first).to_contain_text("Today's compliance")
    finally:
        context.close()


def test_staff_get_the_alert_acknowledge_and_rectify_with_a_photo(
    browser: Browser,
    site_api: tuple[ThreadedApi, Population],
    tester_publisher: MqttTestPublisher,
    make_violation: MakeViolation,
    tmp_path: Path,
) -> None:
    api, population = site_api
    page = _page_as(browser, api, population.headers["staff"])
    try:
        page.goto(api.base_url + "/")
        assert page.url == f"{api.base_url}/staff"
        page.click("#sound-on")
        _wait_live(page, api)
        other_site = make_violation(site="site-3")
        tester_publisher.publish(violation_topic("site-3", "edge-1"), encode(other_site))
        event = make_violation(kind=ViolationKind.RODENT, severity=1).model_copy(
            update={"track_id": 4, "count": 2}
        )
        tester_publisher.publish(violation_topic("site-1", "edge-1"), encode(event))
        card = page.locator(f'article[data-violation-id="{event.violation_id}"]')
        expect(card).to_have_attribute("data-state", "new")
        expect(card.locator(".incident")).to_have_text("持续中 · 数量 2")
        expect(page.locator("#alert-banner")).to_be_visible()
        expect(page.locator("body")).to_have_attribute("data-beeps", "1")  # the sound cue
        end = end_of(event, duration_s=312.4, max_count=3)
        tester_publisher.publish(violation_end_topic("site-1", "edge-1"), encode(end))
        expect(card.locator(".incident")).to_have_text("持续 5分12秒 · 数量 3")  # no reload
        expect(
            page.locator(f'article[data-violation-id="{other_site.violation_id}"]')
        ).to_have_count(0)
        card.locator("button.acknowledge").click()
        expect(card).to_have_attribute("data-state", "acknowledged")
        expect(card.locator(".incident")).to_have_text("持续 5分12秒 · 数量 3")
        photo = tmp_path / "fixed.jpg"
        photo.write_bytes(jpeg_bytes())
        card.locator("textarea[name=note]").fill("堵住了冰箱后的鼠洞")
        card.locator("input[name=photo]").set_input_files(str(photo))
        card.locator("form.rectify button[type=submit]").click()
        expect(card).to_have_attribute("data-state", "rectified")
        steps = api.components.cases.transitions(event.violation_id)
        assert [(s.action, s.actor) for s in steps] == [
            ("acknowledge", "user:staff-1"),
            ("rectify", "user:staff-1"),
        ]
        assert page.context.__dict__["bk_failures"] == []
    finally:
        page.context.close()


def test_a_supervisor_plays_the_clip_verifies_and_the_chart_follows(
    browser: Browser,
    site_api: tuple[ThreadedApi, Population],
    make_violation: MakeViolation,
) -> None:
    api, population = site_api
    event = make_violation(kind=ViolationKind.NO_MASK, occurred_at=datetime.now(UTC))
    assert api.components.store.insert_if_new(event, received_at=api.components.clock())
    vid = str(event.violation_id)
    _edge_put(api, population, f"/api/v1/edge/violations/{vid}/clip", mp4_bytes(), "video/mp4")
    _edge_put(
        api, population, f"/api/v1/edge/violations/{vid}/snapshot", jpeg_bytes(), "image/jpeg"
    )
    staff = httpx.Client(base_url=api.base_url, headers=population.headers["staff"])
    with staff:
        assert staff.post(f"/api/v1/violations/{vid}/acknowledge").is_success
        rectified = staff.post(
            f"/api/v1/violations/{vid}/rectify",
            data={"note": "戴好口罩"},
            files={"photo": ("p.jpg", jpeg_bytes(), "image/jpeg")},
        )
        assert rectified.is_success, rectified.text
    page = _page_as(browser, api, population.headers["supervisor"])
    try:
        page.goto(api.base_url + "/supervisor")
        verified_bar = page.locator('#chart-state g.bar[data-label="verified"]')
        expect(verified_bar).to_have_attribute("data-value", "0")
        page.locator(f'#violations-body tr[data-violation-id="{vid}"]').click()
        video = page.locator("#clip")
        expect(video).to_be_visible()
        expect(page.locator("#snapshot")).to_be_visible()
        page.evaluate("document.querySelector('#clip').play()")
        _wait_in_page(page, "document.querySelector('#clip').currentTime > 0.5")
        page.click("button.action-verify")
        expect(page.locator("#detail")).to_have_attribute("data-state", "verified")
        expect(verified_bar).to_have_attribute("data-value", "1")
        expect(page.locator(f'#violations-body tr[data-violation-id="{vid}"]')).to_have_attribute(
            "data-state", "verified"
        )
        assert page.context.__dict__["bk_failures"] == []
    finally:
        page.context.close()


def test_the_operator_sees_new_violations_without_reload(
    browser: Browser,
    site_api: tuple[ThreadedApi, Population],
    tester_publisher: MqttTestPublisher,
    make_violation: MakeViolation,
) -> None:
    api, _ = site_api
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{api.base_url}/login?token={ACCESS_TOKEN}")
        assert page.url == f"{api.base_url}/supervisor"
        _wait_live(page, api)
        page.evaluate("window.loadedOnce = true")  # gone if the page reloads
        event = make_violation(kind=ViolationKind.NO_MASK, camera="cam-7", confidence=0.93)
        tester_publisher.publish(violation_topic("site-1", "edge-1"), encode(event))
        row = page.locator(f'#violations-body tr[data-violation-id="{event.violation_id}"]')
        expect(row).to_be_visible()
        cells = row.locator("td")
        expect(cells.nth(2)).to_have_text("cam-7")
        expect(cells.nth(3)).to_have_text("未戴口罩")
        expect(cells.nth(5)).to_have_text("93%")
        expect(cells.nth(8)).to_have_text("持续中")
        tester_publisher.publish(
            violation_end_topic("site-1", "edge-1"), encode(end_of(event, duration_s=3725.0))
        )
        expect(cells.nth(8)).to_have_text("持续 1小时2分5秒")
        assert page.evaluate("window.loadedOnce") is True
    finally:
        context.close()


def test_a_violation_pushed_while_the_queue_loads_stays_in_the_queue(
    browser: Browser,
    site_api: tuple[ThreadedApi, Population],
    tester_publisher: MqttTestPublisher,
    make_violation: MakeViolation,
) -> None:
    """The queue's answer is taken before the violation exists and delivered after the live push
    showed it: the row must survive the answer (it used to be replaced away until a reload)."""
    api, population = site_api
    page = _page_as(browser, api, population.headers["supervisor"])
    held = _hold_requests(page, "/api/v1/violations?")
    try:
        page.goto(api.base_url + "/supervisor")
        _wait_live(page, api)
        route, stale = _first_held(page, held)
        event = make_violation(kind=ViolationKind.RODENT, camera="cam-1")
        tester_publisher.publish(violation_topic("site-1", "edge-1"), encode(event))
        row = page.locator(f'#violations-body tr[data-violation-id="{event.violation_id}"]')
        expect(row).to_be_visible()
        assert str(event.violation_id) not in stale.text()
        route.fulfill(response=stale)
        expect(page.locator("#violations-body")).to_have_attribute("aria-busy", "false")
        expect(row).to_be_visible()
        expect(row).to_have_class(re.compile(r"\bnew\b"))
        assert page.context.__dict__["bk_failures"] == []
    finally:
        page.context.close()


def test_a_case_change_pushed_while_the_staff_list_loads_is_not_undone_by_it(
    browser: Browser,
    site_api: tuple[ThreadedApi, Population],
    make_violation: MakeViolation,
) -> None:
    """The staff list's answer says "new"; the acknowledgement pushed live meanwhile is newer."""
    api, population = site_api
    event = make_violation(kind=ViolationKind.NO_HAT, occurred_at=datetime.now(UTC))
    assert api.components.store.insert_if_new(event, received_at=api.components.clock())
    vid = str(event.violation_id)
    page = _page_as(browser, api, population.headers["staff"])
    held = _hold_requests(page, "/api/v1/violations?")
    try:
        page.goto(api.base_url + "/staff")
        _wait_live(page, api)
        route, stale = _first_held(page, held)
        assert '"state":"new"' in stale.text().replace(" ", "")
        with httpx.Client(base_url=api.base_url, headers=population.headers["staff"]) as staff:
            assert staff.post(f"/api/v1/violations/{vid}/acknowledge").is_success
        card = page.locator(f'article[data-violation-id="{vid}"]')
        expect(card).to_have_attribute("data-state", "acknowledged")
        route.fulfill(response=stale)
        expect(page.locator("#cases")).to_have_attribute("aria-busy", "false")
        expect(card).to_have_attribute("data-state", "acknowledged")
        expect(card).to_have_count(1)
        assert page.context.__dict__["bk_failures"] == []
    finally:
        page.context.close()


def test_an_admin_draws_a_zone_on_the_snapshot_and_issues_a_share_link(
    browser: Browser, site_api: tuple[ThreadedApi, Population]
) -> None:
    api, population = site_api
    frame = jpeg_bytes(width=640, height=360)
    _edge_put(api, population, "/api/v1/edge/cameras/cam-1/preview", frame, "image/jpeg")
    page = _page_as(
        browser, api, population.headers["admin"], viewport={"width": 1400, "height": 1000}
    )
    snapshots: list[str] = []
    page.on("request", lambda r: snapshots.append(r.url) if "/preview.jpg" in r.url else None)
    try:
        page.goto(api.base_url + "/admin")
        expect(page.locator("#cameras li[data-camera=cam-1]")).to_be_visible()
        page.select_option("#zone-camera", "cam-1")
        _wait_in_page(page, "document.querySelector('#zone-snapshot').naturalWidth === 640")
        canvas = page.locator("#zone-canvas")
        box = canvas.bounding_box()
        assert box is not None
        for x, y in ((0.1, 0.1), (0.5, 0.1), (0.5, 0.5), (0.1, 0.5)):
            page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.fill("#zone-form input[name=code]", "prep")
        page.fill("#zone-form input[name=name]", "备餐台")
        page.click("#zone-add")
        page.click("#zone-save")
        expect(page.locator("#zones li[data-zone=prep]")).to_be_visible()
        registry = api.components.registry
        wait_for(lambda: len(registry.zones("site-1", "cam-1")) == 1, timeout_s=20, what="save")
        (zone,) = registry.zones("site-1", "cam-1")
        assert zone.code == "prep"
        assert [[round(v, 1) for v in point] for point in zone.polygon] == [
            [0.1, 0.1],
            [0.5, 0.1],
            [0.5, 0.5],
            [0.1, 0.5],
        ]
        page.select_option("#link-form select[name=site]", "site-2")
        page.fill("#link-form input[name=label]", "三年级家长")
        page.click("#link-form button[type=submit]")
        expect(page.locator("#link-url")).to_contain_text("/share/")
        _wait_in_page(page, "document.querySelector('#link-qr').naturalWidth > 0")
        # Choosing the camera already shown and saving its zones keep the one snapshot: a second
        # request would abort the first mid-load (a failed request) and redraw under the corners.
        assert len(snapshots) == 1, snapshots
        assert page.context.__dict__["bk_failures"] == []
    finally:
        page.context.close()
