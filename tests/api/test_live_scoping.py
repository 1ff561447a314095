"""Real uvicorn, broker and streams: alerts and their ends reach only the browsers of their site
and region; one preview upstream fans out to every viewer allowed to watch the camera."""

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from api.previews import MJPEG_START, split_mjpeg
from api.settings import ApiSettings
from brightkitchen.services.mosquitto import MosquittoBroker
from contracts import encode, violation_end_topic, violation_topic
from tests.api.ends import end_of
from tests.api.media import jpeg_bytes
from tests.api.test_live_http import _events
from tests.api.world import Population, populate
from tests.conftest import BrokerUsers
from tests.fixtures.api import (
    MakeViolation,
    MqttTestPublisher,
    ThreadedApi,
    mqtt_settings,
    wait_for,
)

pytestmark = pytest.mark.integration

READ_TIMEOUT = httpx.Timeout(10.0, read=20.0)


@pytest.fixture
def live_api(
    make_settings: Callable[..., ApiSettings], mosquitto: MosquittoBroker, broker_users: BrokerUsers
) -> Iterator[tuple[ThreadedApi, Population]]:
    settings = make_settings(**mqtt_settings(mosquitto, broker_users.api))
    with ThreadedApi(settings) as api:
        ingest = api.components.ingest
        assert ingest is not None
        assert ingest.wait_ready(timeout_s=20)
        yield api, populate(api.components, api.components.clock())


class StreamReader:
    """Reads one SSE stream in a thread, keeping each violation event's data."""

    def __init__(self, api: ThreadedApi, headers: dict[str, str]) -> None:
        self.violations: list[dict[str, Any]] = []
        self.ends: list[dict[str, Any]] = []
        self.subscribed = threading.Event()
        self._api, self._headers = api, headers
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.subscribed.wait(20), "the stream did not open"

    def _read(self) -> None:
        with (
            httpx.Client(base_url=self._api.base_url, headers=self._headers) as http,
            http.stream("GET", "/api/v1/live", timeout=READ_TIMEOUT) as stream,
        ):
            assert stream.status_code == 200
            for item in _events(stream.iter_lines()):
                if item == {"retry": "3000"}:
                    self.subscribed.set()
                elif isinstance(item, dict) and item.get("event") == "violation":
                    self.violations.append(json.loads(item["data"]))
                elif isinstance(item, dict) and item.get("event") == "violation_end":
                    self.ends.append(json.loads(item["data"]))

    def sites(self) -> list[str]:
        return [violation["site"] for violation in self.violations]

    def ended_sites(self) -> list[str]:
        return [end["site"] for end in self.ends]

    def join(self) -> None:
        self._thread.join(timeout=30)


def test_alerts_reach_only_their_sites_staff_and_regions_supervisors(
    live_api: tuple[ThreadedApi, Population],
    tester_publisher: MqttTestPublisher,
    make_violation: MakeViolation,
) -> None:
    api, population = live_api
    readers = {
        who: StreamReader(api, population.headers[who])
        for who in ("staff", "supervisor", "supervisor-south", "admin")
    }
    events = [make_violation(site=site) for site in ("site-3", "site-2", "site-1", "site-3")]
    for event in events:
        tester_publisher.publish(violation_topic(event.site, "edge-1"), encode(event))
    for event in events:
        tester_publisher.publish(violation_end_topic(event.site, "edge-1"), encode(end_of(event)))

    def all_delivered() -> bool:
        # the last message is for site-3: once these two have it, every stream had its share
        return len(readers["admin"].ends) == 4 and len(readers["supervisor-south"].ends) == 2

    wait_for(all_delivered, timeout_s=20, what="the alerts on every stream")
    api.stop()  # ends the streams
    for reader in readers.values():
        reader.join()
    assert readers["staff"].sites() == ["site-1"]
    assert readers["supervisor"].sites() == ["site-2", "site-1"]
    assert readers["supervisor-south"].sites() == ["site-3", "site-3"]
    assert readers["admin"].sites() == ["site-3", "site-2", "site-1", "site-3"]
    # each end goes to the audience of its violation
    for reader in readers.values():
        assert reader.ended_sites() == reader.sites()
        assert [e["violation_id"] for e in reader.ends] == [
            v["violation_id"] for v in reader.violations
        ]


def test_one_preview_upstream_reaches_every_allowed_viewer(
    live_api: tuple[ThreadedApi, Population],
) -> None:
    api, population = live_api
    url = "/api/v1/sites/site-1/cameras/cam-1/live.mjpeg"
    frames = [jpeg_bytes(shade=shade) for shade in (40, 120, 200)]
    received: dict[str, list[bytes]] = {}
    ready = threading.Barrier(4)

    def watch(who: str) -> None:
        parts: list[bytes] = []
        with (
            httpx.Client(base_url=api.base_url, headers=population.headers[who]) as http,
            http.stream("GET", url, timeout=READ_TIMEOUT) as stream,
        ):
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
            ready.wait()
            buffer = b""
            for chunk in stream.iter_bytes():
                buffer += chunk
                if buffer.startswith(MJPEG_START):
                    found, buffer = split_mjpeg(buffer[len(MJPEG_START) :])
                    buffer = MJPEG_START + buffer
                    parts.extend(found)
                if parts and parts[-1] == frames[-1]:
                    break
        received[who] = parts

    viewers = [threading.Thread(target=watch, args=(who,)) for who in ("parent", "staff", "admin")]
    for viewer in viewers:
        viewer.start()
    ready.wait()
    south_frame = jpeg_bytes(shade=250)
    foreign = httpx.put(  # site-3's edge, its own cam-1: another channel
        f"{api.base_url}/api/v1/edge/cameras/cam-1/preview",
        content=south_frame,
        headers={**population.headers["edge-south"], "Content-Type": "image/jpeg"},
    )
    with httpx.Client(base_url=api.base_url, headers=population.headers["edge"]) as edge:
        # the viewers are subscribed: their response headers arrived before the barrier
        for frame in frames:
            response = edge.put(
                "/api/v1/edge/cameras/cam-1/preview",
                content=frame,
                headers={"Content-Type": "image/jpeg"},
            )
            assert response.status_code == 204
    for viewer in viewers:
        viewer.join(timeout=30)
    assert foreign.status_code == 204
    for who in ("parent", "staff", "admin"):
        assert received[who], who
        assert received[who][-1] == frames[-1]
        assert set(received[who]) <= set(frames)
        assert south_frame not in received[who]
    assert api.components.previews.frames_published == 4
