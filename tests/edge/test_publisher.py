"""MqttEventPublisher against a real mosquitto: outages, restarts, order, last will, refusals."""

import gc
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from brightkitchen.services.mosquitto import MosquittoBroker
from contracts import (
    CameraState,
    CameraStatus,
    EdgeState,
    EdgeStatus,
    ViolationEnd,
    ViolationEvent,
    ViolationKind,
    decode_status,
    decode_violation,
    decode_violation_end,
    status_topic,
    violation_end_topic,
    violation_topic,
)
from edge.config import MqttConfig
from edge.errors import PublisherError
from edge.outbox import SqliteOutbox
from edge.publisher import MqttEventPublisher
from tests.conftest import EDGE, SITE, BrokerUsers
from tests.fixtures.edge import MqttRecorder, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

REPO = Path(__file__).resolve().parents[2]
VIOLATIONS = violation_topic(SITE, EDGE)
STATUS = status_topic(SITE, EDGE)


@dataclass
class Edge:
    publisher: MqttEventPublisher
    outbox: SqliteOutbox


MakeEdge = Callable[..., Edge]


def event(camera: str = "cam-1") -> ViolationEvent:
    return ViolationEvent(
        violation_id=uuid.uuid4(),
        site=SITE,
        edge=EDGE,
        camera=camera,
        rule="rat",
        kind=ViolationKind.RODENT,
        severity=1,
        confidence=0.9,
        occurred_at=datetime.now(UTC),
    )


@pytest.fixture
def make_edge(
    tmp_path: Path, mosquitto: MosquittoBroker, broker_users: BrokerUsers
) -> Iterator[MakeEdge]:
    made: list[Edge] = []

    def make(*, outbox_path: Path | None = None, site: str = SITE, start: bool = True) -> Edge:
        outbox = SqliteOutbox(outbox_path or tmp_path / "outbox.sqlite")
        publisher = MqttEventPublisher(
            site=site,
            edge=EDGE,
            mqtt_config=MqttConfig(
                host=mosquitto.host,
                port=mosquitto.port,
                username=broker_users.edge.username,
                password=broker_users.edge.password,
            ),
            outbox=outbox,
            client_id=f"edge-under-test-{len(made)}",
            max_inflight=5,
            reconnect_max_s=2,
        )
        edge = Edge(publisher, outbox)
        made.append(edge)
        if start:
            publisher.start()
        return edge

    yield make
    for edge in made:
        edge.publisher.close(timeout_s=2)
        edge.outbox.close()


def recorder_for(broker: MosquittoBroker, users: BrokerUsers, client_id: str) -> MqttRecorder:
    recorder = MqttRecorder(
        broker.host,
        broker.port,
        users.tester.username,
        users.tester.password,
        "brightkitchen/v1/#",
        client_id=client_id,
    )
    wait_until(recorder.subscribed.is_set, 10, what="the recorder to subscribe")
    return recorder


@pytest.fixture
def recorder(mosquitto: MosquittoBroker, broker_users: BrokerUsers) -> Iterator[MqttRecorder]:
    recorder = recorder_for(mosquitto, broker_users, "recorder")
    yield recorder
    recorder.close()


def received_ids(recorder: MqttRecorder) -> list[str]:
    return [
        str(decode_violation(item.payload).violation_id) for item in recorder.received(VIOLATIONS)
    ]


def first_seen_order(recorder: MqttRecorder) -> list[str]:
    return list(dict.fromkeys(received_ids(recorder)))


def statuses(recorder: MqttRecorder) -> list[EdgeStatus]:
    return [decode_status(item.payload) for item in recorder.received(STATUS)]


def test_violations_wait_in_the_outbox_while_the_broker_is_down_then_arrive(
    mosquitto: MosquittoBroker, recorder: MqttRecorder, make_edge: MakeEdge
) -> None:
    mosquitto.stop()
    edge = make_edge()
    sent = [event() for _ in range(7)]
    for item in sent:
        edge.publisher.publish_violation(item)

    assert edge.outbox.depth() == 7
    assert not edge.publisher.connected

    mosquitto.start()
    wanted = [str(item.violation_id) for item in sent]
    wait_until(lambda: set(received_ids(recorder)) >= set(wanted), 30, what="every violation")
    wait_until(lambda: edge.outbox.depth() == 0, 10, what="every violation acknowledged")
    assert first_seen_order(recorder) == wanted


def test_a_violation_end_follows_its_violation_through_the_outbox(
    mosquitto: MosquittoBroker, recorder: MqttRecorder, make_edge: MakeEdge
) -> None:
    mosquitto.stop()
    edge = make_edge()
    started = event()
    end = ViolationEnd(
        violation_id=started.violation_id,
        site=SITE,
        edge=EDGE,
        camera=started.camera,
        ended_at=started.occurred_at + timedelta(seconds=12),
        duration_s=12.0,
    )
    edge.publisher.publish_violation(started)
    edge.publisher.publish_violation_end(end)

    assert edge.outbox.depth() == 2  # the end does not replace the event (same violation_id)

    mosquitto.start()
    ends = violation_end_topic(SITE, EDGE)
    wait_until(lambda: bool(recorder.received(ends)), 30, what="the violation end")
    wait_until(lambda: edge.outbox.depth() == 0, 10, what="both acknowledged")
    topics = list(dict.fromkeys(item.topic for item in recorder.received() if item.topic != STATUS))
    assert topics == [VIOLATIONS, ends]
    (received,) = {decode_violation_end(item.payload) for item in recorder.received(ends)}
    assert received == end


def test_a_broker_restart_mid_stream_loses_nothing_and_keeps_the_order(
    mosquitto: MosquittoBroker, recorder: MqttRecorder, make_edge: MakeEdge
) -> None:
    edge = make_edge()
    wait_until(lambda: edge.publisher.connected, 10, what="the publisher to connect")
    sent = [event() for _ in range(120)]
    produced = 0
    pace = threading.Event()  # never set: wait(timeout) paces the producer

    def produce() -> None:
        nonlocal produced
        for item in sent:
            edge.publisher.publish_violation(item)
            produced += 1
            pace.wait(0.01)

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        wait_until(lambda: len(received_ids(recorder)) >= 20, 30, what="the stream to flow")
        mosquitto.stop()  # while violations are in flight
        stopped_at = produced
        wait_until(lambda: produced >= stopped_at + 20, 30, what="violations while down")
        mosquitto.start()
    finally:
        producer.join(timeout=60)

    wanted = [str(item.violation_id) for item in sent]
    wait_until(lambda: set(received_ids(recorder)) >= set(wanted), 60, what="every violation")
    wait_until(lambda: edge.outbox.depth() == 0, 10, what="every violation acknowledged")
    assert first_seen_order(recorder) == wanted


def test_a_new_publisher_replays_what_an_earlier_one_left_in_the_outbox(
    tmp_path: Path, mosquitto: MosquittoBroker, recorder: MqttRecorder, make_edge: MakeEdge
) -> None:
    outbox_path = tmp_path / "restart.sqlite"
    mosquitto.stop()
    first = make_edge(outbox_path=outbox_path)
    sent = [event() for _ in range(3)]
    for item in sent:
        first.publisher.publish_violation(item)
    first.publisher.close(timeout_s=1)
    first.outbox.close()

    mosquitto.start()
    second = make_edge(outbox_path=outbox_path)

    wanted = [str(item.violation_id) for item in sent]
    wait_until(lambda: set(received_ids(recorder)) >= set(wanted), 30, what="the leftovers")
    wait_until(lambda: second.outbox.depth() == 0, 10, what="the leftovers acknowledged")
    assert first_seen_order(recorder) == wanted


def test_close_delivers_what_is_pending_then_reports_offline(
    recorder: MqttRecorder, make_edge: MakeEdge
) -> None:
    edge = make_edge()
    wait_until(lambda: edge.publisher.connected, 10, what="the publisher to connect")
    sent = [event() for _ in range(30)]
    for item in sent:
        edge.publisher.publish_violation(item)

    edge.publisher.close(timeout_s=20)

    assert edge.outbox.depth() == 0
    wait_until(
        lambda: set(received_ids(recorder)) >= {str(item.violation_id) for item in sent},
        10,
        what="every violation",
    )
    wait_until(
        lambda: bool(statuses(recorder)) and statuses(recorder)[-1].state is EdgeState.OFFLINE,
        10,
        what="the offline status",
    )


def test_status_is_retained_and_republished_after_a_reconnect(
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    recorder: MqttRecorder,
    make_edge: MakeEdge,
) -> None:
    edge = make_edge()
    status = EdgeStatus(
        site=SITE,
        edge=EDGE,
        state=EdgeState.ONLINE,
        reported_at=datetime.now(UTC),
        cameras={"cam-1": CameraStatus(state=CameraState.ONLINE, since=datetime.now(UTC))},
    )
    edge.publisher.publish_status(status)

    def with_camera() -> list[EdgeStatus]:
        return [item for item in statuses(recorder) if "cam-1" in item.cameras]

    wait_until(lambda: len(with_camera()) >= 1, 10, what="the status")
    mosquitto.stop()
    mosquitto.start()
    wait_until(lambda: len(with_camera()) >= 2, 30, what="the status after a reconnect")
    assert with_camera()[-1].state is EdgeState.ONLINE

    late = recorder_for(mosquitto, broker_users, "late-subscriber")
    try:
        wait_until(lambda: bool(late.received(STATUS)), 10, what="the retained status")
        (retained,) = late.received(STATUS)
        assert retained.retain
        assert decode_status(retained.payload).cameras["cam-1"].state is CameraState.ONLINE
    finally:
        late.close()


def test_the_last_will_reports_offline_when_the_edge_dies(
    tmp_path: Path,
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    recorder: MqttRecorder,
) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.edge.publisher_process",
            mosquitto.host,
            str(mosquitto.port),
            str(tmp_path / "will-outbox.sqlite"),
        ],
        cwd=REPO,
        env=os.environ | {"BK_TEST_EDGE_PASSWORD": broker_users.edge.password},
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"connected\n"
        wait_until(
            lambda: [item.state for item in statuses(recorder)] == [EdgeState.ONLINE],
            10,
            what="the online status",
        )
        process.kill()  # no DISCONNECT: the broker must publish the will
        process.wait(timeout=10)
        wait_until(
            lambda: (
                [item.state for item in statuses(recorder)] == [EdgeState.ONLINE, EdgeState.OFFLINE]
            ),
            30,
            what="the last will",
        )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    late = recorder_for(mosquitto, broker_users, "late-subscriber")
    try:
        wait_until(lambda: bool(late.received(STATUS)), 10, what="the retained will")
        (retained,) = late.received(STATUS)
        assert retained.retain
        assert decode_status(retained.payload).state is EdgeState.OFFLINE
    finally:
        late.close()


def test_a_violation_the_broker_refuses_stays_in_the_outbox(
    tmp_path: Path,
    recorder: MqttRecorder,
    make_edge: MakeEdge,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # the edge user may publish only under its own site: site-2 is refused (PUBACK not authorised)
    edge = make_edge(site="site-2")
    refused = event().model_copy(update={"site": "site-2"})
    edge.publisher.publish_violation(refused)
    wait_until(lambda: "violation refused by the broker" in caplog.text, 10, what="the refusal")
    allowed = make_edge(outbox_path=tmp_path / "allowed.sqlite")
    allowed.publisher.publish_violation(event())
    wait_until(lambda: len(received_ids(recorder)) == 1, 10, what="the allowed violation")

    assert edge.outbox.depth() == 1
    assert [item.message_id for item in edge.outbox.pending(5)] == [str(refused.violation_id)]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    directory.mkdir(parents=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
             "-subj", f"/CN={name}-ca", cwd=directory)  # fmt: skip
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=directory)  # fmt: skip
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "san.ext",
             cwd=directory)  # fmt: skip
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
# paho leaves the socket of a failed TLS handshake to the garbage collector (ResourceWarning);
# the gc.collect() at the end keeps that inside this test
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tls_with_the_brokers_ca_delivers_and_a_foreign_ca_does_not(
    tmp_path: Path, broker_users: BrokerUsers
) -> None:
    ca, cert, key = _certificates(tmp_path / "pki", "broker")
    foreign_ca, _, _ = _certificates(tmp_path / "other-pki", "other")
    broker = MosquittoBroker(tmp_path / "tls-broker", (broker_users.edge,))
    # the per-listener options below apply to the config's one listener
    with (tmp_path / "tls-broker" / "mosquitto.conf").open("a") as conf:
        conf.write(f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n")
    made: list[tuple[MqttEventPublisher, SqliteOutbox]] = []

    def publisher(ca_file: Path, name: str) -> tuple[MqttEventPublisher, SqliteOutbox]:
        outbox = SqliteOutbox(tmp_path / f"{name}.sqlite")
        mqtt_config = MqttConfig.model_validate(
            {
                "host": broker.host,
                "port": broker.port,
                "username": broker_users.edge.username,
                "password": broker_users.edge.password,
                "tls": {"ca_file": str(ca_file)},
            }
        )
        made.append(
            (
                MqttEventPublisher(
                    site=SITE,
                    edge=EDGE,
                    mqtt_config=mqtt_config,
                    outbox=outbox,
                    client_id=f"tls-{name}",
                    reconnect_max_s=2,
                ),
                outbox,
            )
        )
        made[-1][0].start()
        return made[-1]

    broker.start()
    try:
        trusting, trusting_outbox = publisher(ca, "trusting")
        foreign, foreign_outbox = publisher(foreign_ca, "foreign")
        trusting.publish_violation(event())
        foreign.publish_violation(event())

        wait_until(lambda: trusting_outbox.depth() == 0, 20, what="the TLS publish acknowledged")
        assert trusting.connected
        assert not foreign.connected
        assert foreign_outbox.depth() == 1
    finally:
        for made_publisher, outbox in made:
            made_publisher.close(timeout_s=1)
            outbox.close()
        broker.stop()
        gc.collect()


def test_an_unreadable_ca_file_fails_at_construction(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "o.sqlite")
    try:
        with pytest.raises(PublisherError, match="cannot set up MQTT TLS"):
            MqttEventPublisher(
                site=SITE,
                edge=EDGE,
                mqtt_config=MqttConfig.model_validate(
                    {"host": "127.0.0.1", "tls": {"ca_file": str(tmp_path / "missing.pem")}}
                ),
                outbox=outbox,
            )
    finally:
        outbox.close()
