"""A violation travels from an RTSP camera through the edge and the broker to the API, for real."""

import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from brightkitchen.services.mosquitto import MosquittoBroker
from tests.conftest import EDGE, SITE, BrokerUsers
from tests.fixtures.rtsp import RtspServerFactory
from tests.integration.conftest import (
    EdgeProcess,
    LiveStream,
    StartApi,
    StartEdge,
    edge_config,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def test_marker_on_camera_yields_exactly_one_violation_and_plain_camera_none(
    tmp_path: Path,
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    rtsp_server_factory: RtspServerFactory,
    marker_video: Path,
    plain_video: Path,
    start_api: StartApi,
    start_edge: StartEdge,
) -> None:
    rtsp = rtsp_server_factory({"marker": marker_video, "plain": plain_video})
    api = start_api()
    live = LiveStream(api)
    live.start()
    edge = start_edge(
        edge_config(
            tmp_path=tmp_path,
            broker=mosquitto,
            users=broker_users,
            cameras={"cam-marker": rtsp.url("marker"), "cam-plain": rtsp.url("plain")},
        )
    )

    wait_until(lambda: len(api.violations()) >= 1, timeout_s=60, what="a violation in the API")
    # The marker video loops; a second violation could only come from a broken cooldown or from
    # the plain camera. Give both a full loop of the video to misbehave.
    loop_end = time.monotonic() + 14
    while time.monotonic() < loop_end:
        assert edge.process.poll() is None, edge.log()[-3000:]
        time.sleep(0.5)
    rows = api.violations()
    assert [row["camera"] for row in rows] == ["cam-marker"]
    assert rows[0]["site"] == SITE
    assert rows[0]["edge"] == EDGE
    assert rows[0]["kind"] == "uncovered_food"
    wait_until(lambda: len(live.events) >= 1, timeout_s=5, what="the live event")
    assert [event["violation_id"] for event in live.events] == [rows[0]["violation_id"]]
    live.close()


def test_broker_outage_loses_nothing_and_duplicates_nothing(
    tmp_path: Path,
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    rtsp_server_factory: RtspServerFactory,
    marker_video: Path,
    start_api: StartApi,
    start_edge: StartEdge,
) -> None:
    rtsp = rtsp_server_factory({"marker": marker_video})
    api = start_api()
    live = LiveStream(api)
    live.start()
    # A short persistence and cooldown make the edge produce a violation every second or so
    # while the marker is visible.
    edge = start_edge(
        edge_config(
            tmp_path=tmp_path,
            broker=mosquitto,
            users=broker_users,
            cameras={"cam-marker": rtsp.url("marker")},
            min_duration_s=0.2,
            cooldown_s=1.0,
        )
    )
    wait_until(lambda: len(api.violations()) >= 1, timeout_s=60, what="a first violation")

    mosquitto.stop()
    produced_before = len(edge.published_ids())
    wait_until(
        lambda: len(edge.published_ids()) >= produced_before + 3,
        timeout_s=60,
        what="violations produced while the broker is down",
    )
    mosquitto.start()
    wait_until(lambda: edge.process.poll() is None, timeout_s=1, what="the edge to stay up")

    _stop_edge(edge)
    produced = edge.published_ids()
    wait_until(
        lambda: {row["violation_id"] for row in api.violations()} == produced,
        timeout_s=60,
        what=f"all {len(produced)} violations in the API",
    )
    wait_until(lambda: len(live.events) >= len(produced), timeout_s=10, what="live events")
    live_ids = [event["violation_id"] for event in live.events]
    assert sorted(live_ids) == sorted(produced), "each violation is pushed live exactly once"
    live.close()


def test_camera_outage_reports_offline_then_online_and_detects_again(
    tmp_path: Path,
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    rtsp_server_factory: RtspServerFactory,
    marker_video: Path,
    start_api: StartApi,
    start_edge: StartEdge,
) -> None:
    rtsp = rtsp_server_factory({"marker": marker_video})
    api = start_api()
    edge = start_edge(
        edge_config(
            tmp_path=tmp_path,
            broker=mosquitto,
            users=broker_users,
            cameras={"cam-marker": rtsp.url("marker")},
            min_duration_s=0.5,
            cooldown_s=2.0,
            stall_timeout_s=2.0,
        )
    )

    def camera_state() -> str | None:
        for status in api.edges():
            if status["site"] == SITE and status["edge"] == EDGE:
                camera = status["cameras"].get("cam-marker")
                return None if camera is None else str(camera["state"])
        return None

    wait_until(lambda: camera_state() == "online", timeout_s=60, what="camera online")
    wait_until(lambda: len(api.violations()) >= 1, timeout_s=60, what="a first violation")

    rtsp.stop()
    wait_until(lambda: camera_state() == "offline", timeout_s=60, what="camera reported offline")
    count_while_down = len(api.violations())
    rtsp.start()
    wait_until(lambda: camera_state() == "online", timeout_s=90, what="camera back online")
    wait_until(
        lambda: len(api.violations()) > count_while_down,
        timeout_s=60,
        what="a violation after the camera came back",
    )
    assert edge.process.poll() is None, "the edge never exits on a camera outage"


def test_bad_messages_are_rejected_counted_and_ingest_keeps_working(
    mosquitto: MosquittoBroker, broker_users: BrokerUsers, start_api: StartApi
) -> None:
    api = start_api()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bad-input-tester")
    client.username_pw_set(broker_users.tester.username, broker_users.tester.password)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    try:
        good_topic = f"brightkitchen/v1/{SITE}/{EDGE}/violation"
        bad = [
            (good_topic, b"{not json"),
            (good_topic, b'{"schema_version": 1, "violation_id": "nope"}'),
            (good_topic, b'{"schema_version": 99}'),
            (f"brightkitchen/v1/{SITE}/{EDGE}/violation/extra", b"{}"),
            (f"brightkitchen/v1/{SITE}/{EDGE}/unknown", b"{}"),
            (f"brightkitchen/v1/{SITE}/bad.edge/violation", b"{}"),
        ]
        for topic, payload in bad:
            client.publish(topic, payload, qos=1).wait_for_publish(5)
        # A message whose payload names another site than its topic is rejected too.
        other_site = _violation_payload(site="site-2")
        client.publish(good_topic, other_site, qos=1).wait_for_publish(5)

        good = _violation_payload(site=SITE)
        client.publish(good_topic, good, qos=1).wait_for_publish(5)
        wait_until(lambda: len(api.violations()) == 1, timeout_s=20, what="the valid violation")
    finally:
        client.disconnect()
        client.loop_stop()
        client.reinitialise()  # closes paho's wake-up sockets now, not at garbage collection
    metrics = api.metrics()
    rejected = _rejected_total(metrics)
    assert rejected >= 4, metrics


def _violation_payload(*, site: str) -> bytes:
    import uuid
    from datetime import UTC, datetime

    from contracts import ViolationEvent, ViolationKind, encode

    return encode(
        ViolationEvent(
            violation_id=uuid.uuid4(),
            site=site,
            edge=EDGE,
            camera="cam-1",
            rule="rule-1",
            kind=ViolationKind.RODENT,
            severity=1,
            confidence=0.9,
            occurred_at=datetime.now(UTC),
        )
    )


def _rejected_total(metrics: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("brightkitchen_ingest_rejected_total"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _stop_edge(edge: EdgeProcess) -> None:
    import signal

    edge.process.send_signal(signal.SIGINT)
    edge.process.wait(timeout=30)
