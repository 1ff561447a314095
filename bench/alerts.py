"""Alert latency benchmark: a violation published to the broker -> its event in a connected
browser stream (Server-Sent Events), at a steady rate. Target: p95 <= 200 ms at 50/s.

The API runs in this process (uvicorn in a thread) with its real MQTT ingest on SQLite; a real
mosquitto runs on a free port; one SSE client reads /api/v1/live.

    python -m bench.alerts [--rate 50] [--seconds 10]
"""

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from uuid import uuid4

import httpx
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion

from api.main import create_app
from api.server import build_server
from api.settings import ApiSettings
from bench.ingest import API, PUBLISHER, TOPIC, _payloads
from bench.results import RESULTS_PATH, record
from brightkitchen.services.mosquitto import MosquittoBroker
from brightkitchen.services.ports import free_port

TOKEN = "bench-operator-token-0123456789"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


def _read_stream(
    base_url: str, received: dict[str, float], ready: threading.Event, stop: threading.Event
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    timeout = httpx.Timeout(10.0, read=60.0)
    with httpx.stream("GET", f"{base_url}/api/v1/live", headers=headers, timeout=timeout) as sse:
        event = ""
        for line in sse.iter_lines():
            if line.startswith("retry:"):
                ready.set()
            elif line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event == "violation":
                violation_id = json.loads(line.partition(":")[2])["violation_id"]
                received[violation_id] = time.perf_counter()
            if stop.is_set():
                return


def measure(rate_per_s: float, seconds: float) -> list[float]:
    """Latencies in milliseconds, one per published violation."""
    with tempfile.TemporaryDirectory(prefix="bk-bench-alerts-") as workdir:
        broker = MosquittoBroker(Path(workdir) / "mosquitto", (API, PUBLISHER))
        broker.start()
        settings = ApiSettings(
            access_token=TOKEN,
            database_url=f"sqlite:///{Path(workdir) / 'bench.db'}",
            storage_dir=Path(workdir) / "evidence",
            mqtt_host=broker.host,
            mqtt_port=broker.port,
            mqtt_username=API.username,
            mqtt_password=API.password,
            mqtt_client_id=f"bench-api-{uuid4().hex[:6]}",
        )
        app = create_app(settings)
        port = free_port()
        server = build_server(app, host="127.0.0.1", port=port, configure_logging=False)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base_url = f"http://127.0.0.1:{port}"
        received: dict[str, float] = {}
        ready, stop = threading.Event(), threading.Event()
        try:
            deadline = time.monotonic() + 30
            while not server.started:
                if time.monotonic() > deadline:
                    raise TimeoutError("the API did not start")
                time.sleep(0.05)
            ingest = app.state.components.ingest
            if not ingest.wait_ready(20):
                raise TimeoutError("the ingest did not subscribe")
            reader = threading.Thread(
                target=_read_stream, args=(base_url, received, ready, stop), daemon=True
            )
            reader.start()
            if not ready.wait(20):
                raise TimeoutError("the live stream did not open")
            return _publish_at_rate(broker, received, rate_per_s, seconds)
        finally:
            stop.set()
            server.should_exit = True
            thread.join(timeout=30)
            broker.stop()


def _publish_at_rate(
    broker: MosquittoBroker, received: dict[str, float], rate_per_s: float, seconds: float
) -> list[float]:
    payloads = _payloads(int(rate_per_s * seconds))
    client = Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid4().hex[:6]}")
    client.username_pw_set(PUBLISHER.username, PUBLISHER.password)
    client.connect(broker.host, broker.port)
    client.loop_start()
    sent: dict[str, float] = {}
    try:
        start = time.perf_counter()
        for index, payload in enumerate(payloads):
            due = start + index / rate_per_s
            while (now := time.perf_counter()) < due:
                time.sleep(min(due - now, 0.005))  # pacing the load, not waiting for a result
            sent[json.loads(payload)["violation_id"]] = time.perf_counter()
            client.publish(TOPIC, payload, qos=1)
        deadline = time.monotonic() + 60
        while len(received) < len(payloads) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        client.disconnect()
        client.loop_stop()
    return [(received[key] - at) * 1000 for key, at in sent.items() if key in received]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0, help="violations per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--results", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    latencies = measure(args.rate, args.seconds)
    expected = int(args.rate * args.seconds)
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(
        f"{len(latencies)}/{expected} alerts at {args.rate:g}/s: broker -> browser stream "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(latencies):.1f} ms (target p95 <= 200)"
    )
    record(
        {
            "alert_latency_p50_ms": p50,
            "alert_latency_p95_ms": p95,
            "alert_latency_max_ms": max(latencies),
            "alert_rate_per_s": args.rate,
            "alert_delivered_ratio": len(latencies) / expected,
        },
        args.results,
    )
    print(f"figures merged into {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
