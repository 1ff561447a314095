"""Fixtures shared by every test package: a real Mosquitto broker with users and ACLs."""

import os

# Before anything imports onnxruntime or ultralytics: the product never phones home, tests neither.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
os.environ["YOLO_OFFLINE"] = "1"

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from brightkitchen.services.mosquitto import MosquittoBroker, MqttUser

pytest_plugins = ["tests.fixtures.rtsp", "tests.fixtures.edge", "tests.fixtures.api"]

SITE = "site-1"
EDGE = "edge-1"


@dataclass(frozen=True, slots=True)
class BrokerUsers:
    edge: MqttUser  # may publish only under its own site and edge id
    api: MqttUser  # may read every edge's topics
    tester: MqttUser  # may publish anything: for injecting malformed messages


@pytest.fixture(scope="session")
def broker_users() -> BrokerUsers:
    return BrokerUsers(
        edge=MqttUser(
            "edge-1", "edge-secret", (f"topic readwrite brightkitchen/v1/{SITE}/{EDGE}/#",)
        ),
        api=MqttUser("api", "api-secret", ("topic read brightkitchen/v1/#",)),
        tester=MqttUser("tester", "tester-secret", ("topic readwrite #",)),
    )


@pytest.fixture
def mosquitto(tmp_path: Path, broker_users: BrokerUsers) -> Iterator[MosquittoBroker]:
    """A fresh broker per test on a free loopback port; tests may stop() and start() it."""
    broker = MosquittoBroker(
        tmp_path / "mosquitto", (broker_users.edge, broker_users.api, broker_users.tester)
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
