"""Real processes for end-to-end tests: the API and the edge worker, each in its own process."""

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import yaml

from brightkitchen.services.mosquitto import MosquittoBroker
from brightkitchen.services.ports import free_port
from brightkitchen.services.processes import stop_process
from tests.conftest import EDGE, SITE, BrokerUsers

REPO = Path(__file__).resolve().parents[2]
MARKER_MODEL = REPO / "models" / "marker" / "model.onnx"


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.1)


@dataclass
class ApiProcess:
    base_url: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)  # the server's environment, for the CLI

    def stop(self) -> None:
        """Stop the server (SIGINT, a clean shutdown); its database stays for a restart."""
        stop_process(self.process, sig=signal.SIGINT, timeout_s=15)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        )

    def violations(self, **params: str) -> list[dict[str, Any]]:
        with self.client() as client:
            response = client.get("/api/v1/violations", params={"limit": "500", **params})
            response.raise_for_status()
            items: list[dict[str, Any]] = response.json()["items"]
            return items

    def edges(self) -> list[dict[str, Any]]:
        with self.client() as client:
            response = client.get("/api/v1/edges")
            response.raise_for_status()
            edges: list[dict[str, Any]] = response.json()
            return edges

    def metrics(self) -> str:
        with self.client() as client:
            response = client.get("/metrics")
            response.raise_for_status()
            return response.text


@dataclass
class LiveStream:
    """Collects the events of the API's live stream in a background thread."""

    api: ApiProcess
    events: list[dict[str, Any]] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self.connected.wait(10):
            raise AssertionError("live stream did not connect")

    def _read(self) -> None:
        with (
            self.api.client() as client,
            client.stream("GET", "/api/v1/live", timeout=httpx.Timeout(10, read=None)) as response,
        ):
            response.raise_for_status()
            self.connected.set()
            event = ""
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("event:"):
                    event = line.partition(":")[2].strip()
                elif line.startswith("data:") and event == "violation":
                    self.events.append(json.loads(line.partition(":")[2]))

    def close(self) -> None:
        self._stop.set()


class StartApi(Protocol):
    def __call__(
        self, *, port: int | None = None, env: Mapping[str, str] | None = None
    ) -> ApiProcess:
        """Start the API (on `port`, else a free one; `env` added) and wait until it is healthy.

        Every start of a test uses the same database and evidence directory, so a second start
        on the same port (the same MQTT client id, hence its broker session) is a restart.
        """
        ...


@pytest.fixture
def start_api(
    tmp_path: Path, mosquitto: MosquittoBroker, broker_users: BrokerUsers
) -> Iterator[StartApi]:
    started: list[ApiProcess] = []

    def start(*, port: int | None = None, env: Mapping[str, str] | None = None) -> ApiProcess:
        port = free_port() if port is None else port
        token = secrets.token_urlsafe(16)
        log_path = tmp_path / f"api-{port}-{len(started)}.log"
        server_env = os.environ | {
            "API_DATABASE_URL": f"sqlite:///{tmp_path / 'api.db'}",
            "API_STORAGE_DIR": str(tmp_path / "api-evidence"),
            "API_MQTT_HOST": mosquitto.host,
            "API_MQTT_PORT": str(mosquitto.port),
            "API_MQTT_USERNAME": broker_users.api.username,
            "API_MQTT_PASSWORD": broker_users.api.password,
            "API_MQTT_CLIENT_ID": f"api-test-{port}",
            "API_ACCESS_TOKEN": token,
        }
        server_env |= env or {}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)],
                env=server_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        api = ApiProcess(f"http://127.0.0.1:{port}", token, process, log_path, server_env)
        started.append(api)

        def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"API exited: {log_path.read_text()[-3000:]}")
            try:
                return httpx.get(f"{api.base_url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout_s=30, what="the API to be healthy")
        return api

    yield start
    for api in started:
        stop_process(api.process, sig=signal.SIGINT, timeout_s=15)


@dataclass
class EdgeProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def published_ids(self) -> set[str]:
        """Ids of every violation the edge created, from its log lines."""
        ids = set()
        for line in self.log().splitlines():
            if "violation created" in line:
                for token in line.split():
                    if token.startswith("id="):
                        ids.add(token[3:])
        return ids


def edge_config(
    *,
    tmp_path: Path,
    broker: MosquittoBroker,
    users: BrokerUsers,
    cameras: dict[str, str],
    min_duration_s: float = 2.0,
    cooldown_s: float = 600.0,
    stall_timeout_s: float = 3.0,
    detect_fps: float = 5.0,
    **sections: object,
) -> Path:
    """The edge config of these tests: the marker model and rule; `sections` add or replace keys."""
    config: dict[str, object] = {
        "site": SITE,
        "edge": EDGE,
        "cameras": [
            {
                "id": camera,
                "url": url,
                "detect_fps": detect_fps,
                "stall_timeout_s": stall_timeout_s,
            }
            for camera, url in cameras.items()
        ],
        "model": {"path": str(MARKER_MODEL), "confidence": 0.25, "threads": 1},
        "rules": [
            {
                "id": "marker-present",
                "kind": "uncovered_food",
                "label": "red_marker",
                "min_duration_s": min_duration_s,
                "cooldown_s": cooldown_s,
                "min_confidence": 0.5,
                "severity": 2,
            }
        ],
        "mqtt": {
            "host": broker.host,
            "port": broker.port,
            "username": users.edge.username,
            "password": "${BK_TEST_EDGE_PASSWORD}",
        },
        "outbox": {"path": str(tmp_path / "edge-outbox.sqlite")},
        "status_interval_s": 2,
        **sections,
    }
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class StartEdge(Protocol):
    def __call__(self, config_path: Path, *, env: Mapping[str, str] | None = None) -> EdgeProcess:
        """Start `python -m edge --config config_path` (`env` added to its environment)."""
        ...


@pytest.fixture
def start_edge(tmp_path: Path, broker_users: BrokerUsers) -> Iterator[StartEdge]:
    started: list[EdgeProcess] = []

    def start(config_path: Path, *, env: Mapping[str, str] | None = None) -> EdgeProcess:
        log_path = tmp_path / f"edge-{len(started)}.log"
        edge_env = os.environ | {
            "ORT_DISABLE_TELEMETRY": "1",
            "BK_TEST_EDGE_PASSWORD": broker_users.edge.password,
        }
        edge_env |= env or {}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "edge", "--config", str(config_path)],
                env=edge_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        edge = EdgeProcess(process, log_path)
        started.append(edge)
        return edge

    yield start
    for edge in started:
        stop_process(edge.process, sig=signal.SIGINT, timeout_s=15)
