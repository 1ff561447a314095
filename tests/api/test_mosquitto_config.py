"""Mosquitto's passwd and ACL files from the device registry, proved on a real mosquitto: an
edge publishes only under its own site and id; the API reads everything, also as a shared
subscription."""

import getpass
import threading
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from paho.mqtt.client import Client, ConnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from api.__main__ import main
from api.credentials import PasswordHashing
from api.db import make_engine
from api.migrate import migrate
from api.mosquitto_config import broker_users, render_acl, write_config
from api.registry import IssuedDevice, RegistryStore
from api.store import ViolationStore
from brightkitchen.services.mosquitto import MosquittoBroker, MqttUser
from tests.fixtures.api import T0, wait_for

pytestmark = pytest.mark.integration

API_USER, API_PASSWORD = "api", "api-password-0123"


class GeneratedConfigBroker(MosquittoBroker):
    """A real mosquitto that reads the passwd and acl files we generated, as deployed."""

    def __init__(self, workdir: Path, passwd: Path, acl: Path) -> None:
        self._generated = (passwd, acl)
        super().__init__(workdir, ())

    def _write_config(self, users: tuple[MqttUser, ...]) -> None:
        passwd, acl = self._generated
        (self._workdir / "data").mkdir(parents=True, exist_ok=True)
        (self._workdir / "mosquitto.conf").write_text(
            "\n".join(
                [
                    f"user {getpass.getuser()}",
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous false",
                    f"password_file {passwd}",
                    f"acl_file {acl}",
                    f"log_dest file {self.log_path}",
                    "",
                ]
            )
        )


class Client5:
    """A paho MQTT 5 client that records what it receives and how its publishes were answered."""

    def __init__(self, broker: MosquittoBroker, username: str, password: str) -> None:
        self.received: list[str] = []
        self.connect_result: ReasonCode | None = None
        self._connected = threading.Event()
        self.client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"t-{uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_connect(
        self,
        _client: Client,
        _userdata: object,
        _flags: ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self.connect_result = reason_code
        self._connected.set()

    def _on_message(self, _client: Client, _userdata: object, message: MQTTMessage) -> None:
        self.received.append(message.topic)

    def connected(self) -> bool:
        assert self._connected.wait(10), "no CONNACK"
        return self.connect_result is not None and not self.connect_result.is_failure

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_args: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(10), f"no SUBACK for {topic}"

    def publish(self, topic: str) -> None:
        info = self.client.publish(topic, b"{}", qos=1)
        info.wait_for_publish(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[tuple[RegistryStore, list[IssuedDevice]]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bk.db'}")
    migrate(engine)
    registry = RegistryStore(
        ViolationStore(engine).database, PasswordHashing(memory_kib=8, time_cost=1)
    )
    registry.create_site("site-1", "一中食堂", None)
    registry.create_site("site-2", "二中食堂", None)
    issued = [
        registry.create_device("site-1", "edge-1", now=T0),
        registry.create_device("site-2", "edge-2", now=T0),
    ]
    try:
        yield registry, issued
    finally:
        engine.dispose()


def test_the_acl_names_each_edge_and_its_own_topics(
    devices: tuple[RegistryStore, list[IssuedDevice]],
) -> None:
    registry, _ = devices
    users = broker_users(registry, api_username=API_USER, api_password=API_PASSWORD)
    assert render_acl(users) == (
        "user api\ntopic read brightkitchen/v1/#\n\n"
        "user site-1.edge-1\ntopic write brightkitchen/v1/site-1/edge-1/#\n\n"
        "user site-2.edge-2\ntopic write brightkitchen/v1/site-2/edge-2/#\n"
    )


def test_an_edge_can_publish_only_under_its_own_site_and_id(
    tmp_path: Path, devices: tuple[RegistryStore, list[IssuedDevice]]
) -> None:
    registry, (edge1, _edge2) = devices
    users = broker_users(registry, api_username=API_USER, api_password=API_PASSWORD)
    passwd, acl = write_config(users, tmp_path / "generated")
    assert passwd.stat().st_mode & 0o777 == 0o600
    assert edge1.mqtt_password not in passwd.read_text()
    broker = GeneratedConfigBroker(tmp_path / "mosquitto", passwd, acl)
    broker.start()
    clients: list[Client5] = []
    try:
        api = Client5(broker, API_USER, API_PASSWORD)
        shared = Client5(broker, API_USER, API_PASSWORD)
        edge = Client5(broker, edge1.mqtt_username, edge1.mqtt_password)
        impostor = Client5(broker, edge1.mqtt_username, "not-the-password")
        clients += [api, shared, edge, impostor]
        assert api.connected()
        assert shared.connected()
        assert edge.connected()
        assert not impostor.connected()
        api.subscribe("brightkitchen/v1/#")
        shared.subscribe("$share/api/brightkitchen/v1/+/+/violation")
        foreign = "brightkitchen/v1/site-2/edge-2/violation"
        other_edge = "brightkitchen/v1/site-1/edge-9/violation"
        own = "brightkitchen/v1/site-1/edge-1/violation"
        for topic in (foreign, other_edge, own):  # one publisher: delivered in this order
            edge.publish(topic)
        wait_for(lambda: own in api.received, timeout_s=10, what="the edge's own message")
        wait_for(lambda: own in shared.received, timeout_s=10, what="the shared subscription")
        assert api.received == [own]
        assert shared.received == [own]
    finally:
        for client in clients:
            client.close()
        broker.stop()


def test_the_command_writes_the_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    devices: tuple[RegistryStore, list[IssuedDevice]],
) -> None:
    monkeypatch.setenv("API_DATABASE_URL", f"sqlite:///{tmp_path / 'bk.db'}")
    monkeypatch.setenv("API_MQTT_USERNAME", API_USER)
    monkeypatch.setenv("API_MQTT_PASSWORD", API_PASSWORD)
    assert main(["mosquitto-config", "--out", str(tmp_path / "etc")]) == 0
    passwd = (tmp_path / "etc" / "passwd").read_text().splitlines()
    assert [line.split(":")[0] for line in passwd] == ["api", "site-1.edge-1", "site-2.edge-2"]
    assert API_PASSWORD not in "\n".join(passwd)
    assert (tmp_path / "etc" / "acl").read_text().startswith("user api\n")
