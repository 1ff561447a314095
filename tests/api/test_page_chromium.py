"""Real Chromium: log in, and a violation published over MQTT appears without a reload."""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect, sync_playwright

from api.settings import ApiSettings
from brightkitchen.services.mosquitto import MosquittoBroker
from contracts import ViolationKind, encode, violation_topic
from tests.conftest import BrokerUsers
from tests.fixtures.api import (
    ACCESS_TOKEN,
    MakeViolation,
    MqttTestPublisher,
    ThreadedApi,
    mqtt_settings,
    wait_for,
)

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    # nothing but the API under test resolves: the page must not need the internet
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
TIMEOUT_MS = 20_000


def test_a_new_violation_appears_on_the_page_without_reload(
    make_settings: Callable[..., ApiSettings],
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    tester_publisher: MqttTestPublisher,
    make_violation: MakeViolation,
) -> None:
    settings = make_settings(**mqtt_settings(mosquitto, broker_users.api))
    with ThreadedApi(settings) as api, sync_playwright() as playwright:
        ingest = api.components.ingest
        assert ingest is not None
        assert ingest.wait_ready(timeout_s=20)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(api.base_url + "/login")
            page.click("details.login summary")
            page.fill("#token", ACCESS_TOKEN)
            page.click("#token-submit")
            expect(page.locator("#live-status")).to_have_attribute("data-state", "open")
            expect(page.locator("#empty")).to_be_visible()  # no violations yet
            wait_for(
                lambda: api.components.hub.subscriber_count == 1,
                timeout_s=20,
                what="the page's live stream to subscribe",
            )
            page.evaluate("window.loadedOnce = true")  # gone if the page reloads

            event = make_violation(kind=ViolationKind.NO_MASK, camera="cam-7", confidence=0.93)
            tester_publisher.publish(violation_topic("site-1", "edge-1"), encode(event))

            row = page.locator(f'#violations-body tr[data-violation-id="{event.violation_id}"]')
            expect(row).to_be_visible()
            expect(row).to_have_class("severity-3 new")  # highlighted as new
            cells = row.locator("td")
            expect(cells.nth(1)).to_have_text("site-1")
            expect(cells.nth(2)).to_have_text("cam-7")
            expect(cells.nth(3)).to_have_text("未戴口罩 No mask")
            expect(cells.nth(5)).to_have_text("93%")
            expect(page.locator("#empty")).to_be_hidden()
            assert page.evaluate("window.loadedOnce") is True
        finally:
            browser.close()
