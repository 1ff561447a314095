"""Real uvicorn and broker: an MQTT violation and its end reach an open SSE stream; shutdown ends
streams."""

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from api.settings import ApiSettings
from brightkitchen.services.mosquitto import MosquittoBroker
from contracts import encode, violation_end_topic, violation_topic
from tests.api.ends import INCIDENT_S, end_of
from tests.conftest import BrokerUsers
from tests.fixtures.api import AUTH, MakeViolation, MqttTestPublisher, ThreadedApi, mqtt_settings

pytestmark = pytest.mark.integration


def _events(lines: Iterator[str]) -> Iterator[dict[str, str] | str]:
    """SSE events as field dicts, and comment lines as plain strings."""
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            yield line
        elif line == "":
            if fields:
                yield fields
            fields = {}
        else:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def test_a_published_violation_reaches_the_live_stream(
    make_settings: Callable[..., ApiSettings],
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    tester_publisher: MqttTestPublisher,
    make_violation: MakeViolation,
) -> None:
    settings = make_settings(**mqtt_settings(mosquitto, broker_users.api, live_keepalive_s=0.2))
    with ThreadedApi(settings) as api, httpx.Client(base_url=api.base_url, headers=AUTH) as http:
        ingest = api.components.ingest
        assert ingest is not None
        assert ingest.wait_ready(timeout_s=20)
        assert http.get("/healthz").json() == {
            "status": "ok",
            "database": True,
            "ingest": "connected",
        }
        event = make_violation()
        timeout = httpx.Timeout(10.0, read=20.0)
        with http.stream("GET", "/api/v1/live", timeout=timeout) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = _events(stream.iter_lines())
            assert next(events) == {"retry": "3000"}  # sent once the stream is subscribed
            assert next(events) == ": keep-alive"  # idle streams get a comment line
            tester_publisher.publish(violation_topic("site-1", "edge-1"), encode(event))
            received = next(item for item in events if isinstance(item, dict))
            end = end_of(event, max_count=2)
            tester_publisher.publish(violation_end_topic("site-1", "edge-1"), encode(end))
            ended = next(item for item in events if isinstance(item, dict))
            metrics = http.get("/metrics").text.splitlines()
        assert (ended["event"], ended["id"]) == ("violation_end", f"{event.violation_id}:end")
        assert json.loads(ended["data"]) == {
            "violation_id": str(event.violation_id),
            "site": "site-1",
            "edge": "edge-1",
            "camera": "cam-1",
            "ended_at": end.ended_at.isoformat().replace("+00:00", "Z"),
            "duration_s": INCIDENT_S,
            "max_count": 2,
        }
        assert 'brightkitchen_ingest_violation_ends_total{outcome="applied"} 1' in metrics
        assert received["event"] == "violation"
        assert received["id"] == str(event.violation_id)
        data = json.loads(received["data"])
        assert data["violation_id"] == str(event.violation_id)
        assert (data["site"], data["camera"], data["kind"]) == ("site-1", "cam-1", "no_hat")
        assert "brightkitchen_live_subscribers 1" in metrics
        assert 'brightkitchen_ingest_violations_total{outcome="accepted"} 1' in metrics
        assert "brightkitchen_ingest_connected 1" in metrics
        stored = http.get(f"/api/v1/violations/{event.violation_id}")
        assert stored.status_code == 200
        assert (stored.json()["ended_at"], stored.json()["duration_s"]) == (
            json.loads(ended["data"])["ended_at"],
            INCIDENT_S,
        )


def test_shutdown_ends_open_live_streams(make_settings: Callable[..., ApiSettings]) -> None:
    api = ThreadedApi(make_settings())
    with api, httpx.Client(base_url=api.base_url, headers=AUTH) as http:
        with http.stream("GET", "/api/v1/live", timeout=httpx.Timeout(10.0, read=30.0)) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "retry: 3000"
            api.server.should_exit = True
            rest = list(lines)  # ends when the server closes the stream, not by a timeout
        assert rest == [""]
        assert api.components.hub.subscriber_count == 0
