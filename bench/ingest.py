"""Ingest benchmark: violations per second from the broker into the database, against a bare
paho subscriber that only counts the same messages (the ratio is what storing costs).

Both sides drain the same backlog: N violations are published while the subscriber is away
(its persistent session queues them at the broker), then it connects and the clock runs until
the last one is counted (baseline) or stored (ingest). A real mosquitto runs on a free port.

    python -m bench.ingest [--messages N] [--postgres URL]
"""

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from api.db import make_engine
from api.ingest import IngestCounters, IngestHandler, MqttIngest, Outcome
from api.migrate import migrate
from api.settings import MqttOptions
from api.store import ViolationStore
from bench.results import RESULTS_PATH, record
from brightkitchen.services.mosquitto import MosquittoBroker, MqttUser
from contracts import (
    VIOLATION_SUBSCRIPTION,
    NormalizedBox,
    ViolationEvent,
    ViolationKind,
    encode,
    violation_topic,
)

API = MqttUser("api", "api-bench-password", ("topic read brightkitchen/v1/#",))
PUBLISHER = MqttUser("edge", "edge-bench-password", ("topic write brightkitchen/v1/#",))
TOPIC = violation_topic("site-1", "edge-1")


def _payloads(count: int) -> list[bytes]:
    start = datetime.now(UTC)
    box = NormalizedBox(label="head_bare", confidence=0.9, x1=0.1, y1=0.1, x2=0.2, y2=0.2)
    return [
        encode(
            ViolationEvent(
                violation_id=uuid4(),
                site="site-1",
                edge="edge-1",
                camera="cam-1",
                rule="hat",
                kind=ViolationKind.NO_HAT,
                severity=3,
                confidence=0.9,
                boxes=(box,),
                occurred_at=start + timedelta(milliseconds=index),
            )
        )
        for index in range(count)
    ]


def _client(user: MqttUser, client_id: str) -> Client:
    client = Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    client.username_pw_set(user.username, user.password)
    client.max_inflight_messages_set(1000)
    return client


def publish_all(broker: MosquittoBroker, payloads: list[bytes]) -> None:
    client = _client(PUBLISHER, f"bench-pub-{uuid4().hex[:6]}")
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        infos = [client.publish(TOPIC, payload, qos=1) for payload in payloads]
        for info in infos:
            info.wait_for_publish(timeout=60)
    finally:
        client.disconnect()
        client.loop_stop()


def _session_properties() -> Properties:
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 3600
    properties.ReceiveMaximum = 1000
    return properties


def _wait(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.005)


def baseline_rate(broker: MosquittoBroker, payloads: list[bytes]) -> float:
    """Messages per second a bare QoS 1 subscriber drains from its queued session."""
    client_id = f"bench-bare-{uuid4().hex[:6]}"
    received = 0
    subscribed = threading.Event()
    lock = threading.Lock()

    def on_message(_client: Client, _userdata: object, _message: MQTTMessage) -> None:
        nonlocal received
        with lock:
            received += 1

    client = _client(API, client_id)
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_message = on_message
    client.connect(broker.host, broker.port, clean_start=False, properties=_session_properties())
    client.loop_start()
    client.subscribe(VIOLATION_SUBSCRIPTION, qos=1)
    if not subscribed.wait(10):
        raise TimeoutError("the bare subscriber did not subscribe")
    client.disconnect()
    client.loop_stop()
    publish_all(broker, payloads)
    client = _client(API, client_id)
    client.on_message = on_message
    started = time.perf_counter()
    client.connect(broker.host, broker.port, clean_start=False, properties=_session_properties())
    client.loop_start()
    try:
        _wait(lambda: received >= len(payloads), 120, "the bare subscriber")
        return len(payloads) / (time.perf_counter() - started)
    finally:
        client.disconnect()
        client.loop_stop()


def ingest_rate(broker: MosquittoBroker, payloads: list[bytes], database_url: str) -> float:
    """Violations per second MqttIngest drains from its queued session into the database."""
    engine = make_engine(database_url)
    migrate(engine)
    store = ViolationStore(engine)
    counters = IngestCounters()
    options = MqttOptions(
        host=broker.host,
        port=broker.port,
        client_id=f"bench-api-{uuid4().hex[:6]}",
        username=API.username,
        password=API.password,
    )

    def make() -> MqttIngest:
        return MqttIngest(options, IngestHandler(store, counters, lambda _violation: None))

    try:
        first = make()
        first.start()
        if not first.wait_ready(20):
            raise TimeoutError("the ingest did not subscribe")
        first.stop()
        publish_all(broker, payloads)
        ingest = make()
        started = time.perf_counter()
        ingest.start()
        try:
            _wait(
                lambda: counters.snapshot().outcomes[Outcome.ACCEPTED] >= len(payloads),
                300,
                "the ingest",
            )
            return len(payloads) / (time.perf_counter() - started)
        finally:
            ingest.stop()
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--postgres", default=None, help="an empty PostgreSQL database URL")
    parser.add_argument("--results", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bk-bench-ingest-") as workdir:
        broker = MosquittoBroker(Path(workdir) / "mosquitto", (API, PUBLISHER))
        broker.start()
        try:
            payloads = _payloads(args.messages)
            bare = baseline_rate(broker, payloads)
            print(f"bare paho subscriber      {bare:10.0f} messages/s ({args.messages} messages)")
            figures["ingest_bare_subscriber_per_s"] = bare
            targets = {"sqlite": f"sqlite:///{Path(workdir) / 'bench.db'}"}
            if args.postgres:
                targets["postgresql"] = args.postgres
            for name, url in targets.items():
                rate = ingest_rate(broker, _payloads(args.messages), url)
                print(
                    f"ingest into {name:<13} {rate:10.0f} violations/s, "
                    f"ratio to bare {rate / bare:.3f}"
                )
                figures[f"ingest_{name}_per_s"] = rate
                figures[f"ingest_{name}_ratio"] = rate / bare
        finally:
            broker.stop()
    record(figures, args.results)
    print(f"figures merged into {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
