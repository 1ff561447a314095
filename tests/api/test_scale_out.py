"""Two API processes on one PostgreSQL share the MQTT ingest through a shared subscription:
each violation is stored exactly once, each incident's end applied once (often by the replica
that did not store its start), and both did part of the work."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from brightkitchen.services.mosquitto import MosquittoBroker
from brightkitchen.services.ports import free_port
from brightkitchen.services.processes import stop_process
from contracts import encode, violation_end_topic, violation_topic
from tests.api.ends import INCIDENT_S, end_of
from tests.conftest import BrokerUsers
from tests.fixtures.api import (
    ACCESS_TOKEN,
    AUTH,
    MakeViolation,
    MqttTestPublisher,
    drop_everything,
    wait_for,
)

pytestmark = pytest.mark.integration

MESSAGES = 200


class ApiReplica:
    def __init__(
        self,
        tmp_path: Path,
        database_url: str,
        broker: MosquittoBroker,
        users: BrokerUsers,
        name: str,
    ) -> None:
        self.port = free_port()
        self.log_path = tmp_path / f"{name}.log"
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("API_")
        }
        environment.update(
            {
                "API_DATABASE_URL": database_url,
                "API_STORAGE_DIR": str(tmp_path / "evidence"),
                "API_ACCESS_TOKEN": ACCESS_TOKEN,
                "API_MQTT_HOST": broker.host,
                "API_MQTT_PORT": str(broker.port),
                "API_MQTT_USERNAME": users.api.username,
                "API_MQTT_PASSWORD": users.api.password,
                "API_MQTT_CLIENT_ID": f"api-{name}",
                "API_MQTT_SHARED_GROUP": "brightkitchen-api",
            }
        )
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(self.port)],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.base_url = f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"replica exited: {self.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def counted(self, outcome: str, family: str = "ingest_violations_total") -> int:
        text = httpx.get(f"{self.base_url}/metrics", headers=AUTH, timeout=10).text
        found = re.search(rf'brightkitchen_{family}{{outcome="{outcome}"}} (\d+)', text)
        assert found is not None
        return int(found.group(1))

    def durations(self) -> list[float | None]:
        url = f"{self.base_url}/api/v1/violations?limit={MESSAGES}"
        items = httpx.get(url, headers=AUTH, timeout=10).json()["items"]
        return [item["duration_s"] for item in items]

    def stored(self) -> int:
        page = httpx.get(f"{self.base_url}/api/v1/violations?limit=1", headers=AUTH, timeout=10)
        total: int = page.json()["total"]
        return total

    def stop(self) -> None:
        stop_process(self.process, timeout_s=30)


@pytest.fixture
def replicas(
    tmp_path: Path, postgres_url: str, mosquitto: MosquittoBroker, broker_users: BrokerUsers
) -> Iterator[list[ApiReplica]]:
    started = [
        ApiReplica(tmp_path, postgres_url, mosquitto, broker_users, name) for name in ("a", "b")
    ]
    try:
        for replica in started:  # both migrate the same empty database at once
            wait_for(replica.healthy, timeout_s=60, what="the replica to be healthy")
        yield started
    finally:
        for replica in started:
            replica.stop()
        drop_everything(postgres_url)


def test_two_replicas_split_the_ingest_and_store_each_violation_once(
    replicas: list[ApiReplica],
    tester_publisher: MqttTestPublisher,
    make_violation: MakeViolation,
) -> None:
    events = [make_violation(t_s=index) for index in range(MESSAGES)]
    for event in events:  # each incident's end right behind its start, as an edge replays them
        tester_publisher.publish(violation_topic("site-1", "edge-1"), encode(event))
        tester_publisher.publish(violation_end_topic("site-1", "edge-1"), encode(end_of(event)))
    first, second = replicas
    wait_for(lambda: first.stored() == MESSAGES, timeout_s=60, what="every violation stored")
    wait_for(
        lambda: first.durations() == [INCIDENT_S] * MESSAGES,
        timeout_s=60,
        what="every incident's end applied",
    )

    def ends_applied() -> int:  # counted just after the commit that the durations show
        return sum(r.counted("applied", "ingest_violation_ends_total") for r in replicas)

    wait_for(lambda: ends_applied() == MESSAGES, timeout_s=20, what="each end counted once")
    accepted = [replica.counted("accepted") for replica in replicas]
    duplicates = [replica.counted("duplicate") for replica in replicas]
    assert sum(accepted) == MESSAGES
    assert all(count > 0 for count in accepted), accepted  # both took a share
    assert duplicates == [0, 0]
    assert second.stored() == MESSAGES
