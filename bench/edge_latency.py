"""Alert latency and memory: from the frame that completes a violation to the message at the broker.

The real edge runtime runs in this process on N RTSP cameras (the real RTSP server looping the
marker video: a red marker shows from 3 s to 9 s of every 12 s) with the marker model, motion
gating and regions, a rule "red_marker present for 1 s" with a 1 s cooldown (so it fires every
2 s while the marker shows), the real MQTT publisher with its SQLite outbox and a real mosquitto.
A paho subscriber records when each violation arrives; the latency of one alert is its arrival
time minus its occurred_at, which is the captured_at of the frame in which the rule's minimum
duration was reached (the same clock: both are this machine's UTC). Target: p95 <= 300 ms.

The baseline in the same run is the broker round trip alone: the subscriber's time to receive a
message this process publishes straight to mosquitto with paho (QoS 1), so the edge's own share
shows. Memory: the process's RSS with the cameras running, and per camera (RSS growth from
before the cameras started, over N).

With --kitchen the cameras play the `hat_off` scenario instead (scenes/timeline.py: a worker
whose hat comes off from 12 s to 20 s of every 40 s loop) and the edge runs the kitchen model with
the kitchen `no_hat` rule (3 s minimum duration, active always, one incident per person): the
detector then costs what it costs in a canteen. Its occurred_at is likewise the frame that
completed the minimum duration (edge/kitchen/messages.py).

    python -m bench.edge_latency [--cameras 4] [--duration-s 60] [--model PATH] [--kitchen]
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported

import argparse
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.kitchen_streams import CACHE_DIR, KITCHEN_MODEL, MARKER_MODEL, rss_mib
from bench.results import RESULTS_PATH, record
from brightkitchen.services.mosquitto import MosquittoBroker, MqttUser
from brightkitchen.services.rtsp import RtspServer
from contracts import ViolationKind, decode_violation, violation_topic
from detector.onnx import OnnxDetector
from edge.config import EdgeConfig
from edge.motion import MotionConfig
from edge.outbox import SqliteOutbox
from edge.publisher import MqttEventPublisher
from edge.regions import RegionConfig
from edge.rules import LabelInZoneRule
from edge.scheduler import SchedulerConfig
from edge.worker import EdgeWorker
from scenes.marker_video import write_marker_video
from scenes.scenario import render_scenario
from scenes.timeline import default_scenarios
from streams.frame import FrameSource
from streams.rtsp import RtspFrameSource

SITE, EDGE = "bench", "edge-1"
_PASSWORD = "bench-secret"  # a throwaway broker on loopback
_ROUND_TRIPS = 50


class Subscriber:
    """A paho client recording (arrival time, payload) of every message under brightkitchen/v1/."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.arrivals: dict[str, list[tuple[datetime, bytes]]] = {}
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-subscriber")
        self._client.username_pw_set("reader", _PASSWORD)
        self._client.on_connect = lambda client, *_: client.subscribe("brightkitchen/v1/#", qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the subscriber could not subscribe")

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        arrived_at = datetime.now(UTC)
        with self._lock:
            self.arrivals.setdefault(message.topic, []).append((arrived_at, bytes(message.payload)))

    def taken(self, topic: str) -> list[tuple[datetime, bytes]]:
        with self._lock:
            return list(self.arrivals.get(topic, ()))

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def broker_round_trip_ms(
    broker: MosquittoBroker, subscriber: Subscriber, topic: str
) -> list[float]:
    """Publish-to-arrival times of plain QoS 1 messages: what the broker alone costs."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.username_pw_set("writer", _PASSWORD)
    client.connect(broker.host, broker.port)
    client.loop_start()
    times_ms: list[float] = []
    try:
        for number in range(_ROUND_TRIPS):
            before = len(subscriber.taken(topic))
            sent_at = datetime.now(UTC)
            client.publish(topic, f"ping {number}".encode(), qos=1)
            deadline = time.monotonic() + 5
            while len(subscriber.taken(topic)) == before and time.monotonic() < deadline:
                time.sleep(0.0005)
            arrivals = subscriber.taken(topic)
            if len(arrivals) > before:
                times_ms.append((arrivals[-1][0] - sent_at).total_seconds() * 1000)
    finally:
        client.disconnect()
        client.loop_stop()
    return times_ms


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edge_latency", description=__doc__)
    parser.add_argument("--cameras", type=int, default=4, help="RTSP cameras on the edge")
    parser.add_argument("--duration-s", type=float, default=60.0, help="measured time")
    parser.add_argument(
        "--model", type=Path, default=None, help="default: marker model, kitchen with --kitchen"
    )
    parser.add_argument(
        "--kitchen", action="store_true", help="the hat_off scenario, kitchen model, no_hat rule"
    )
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads in all")
    parser.add_argument(
        "--workers", type=int, default=SchedulerConfig().workers, help="model instances"
    )
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="JSON to merge into")
    args = parser.parse_args(argv)
    if args.cameras < 1 or args.duration_s <= 0:
        parser.error("--cameras and --duration-s must be positive")
    if args.model is None:
        args.model = KITCHEN_MODEL if args.kitchen else MARKER_MODEL
    with tempfile.TemporaryDirectory(prefix="bk-latency-") as scratch:
        workdir = Path(scratch)
        if args.kitchen:
            hat_off = next(s for s in default_scenarios() if s.name == "hat_off")
            video = CACHE_DIR / "scenarios-one-slice" / f"{hat_off.name}.mp4"
            if not video.is_file():
                video, _ = render_scenario(hat_off, video.parent)
        else:
            video = workdir / "marker.mp4"
            write_marker_video(video, duration_s=12.0, marker_intervals_s=((3.0, 9.0),))
        users = (
            MqttUser("edge", _PASSWORD, (f"topic readwrite brightkitchen/v1/{SITE}/{EDGE}/#",)),
            MqttUser("reader", _PASSWORD, ("topic read brightkitchen/v1/#",)),
            MqttUser("writer", _PASSWORD, ("topic readwrite #",)),
        )
        broker = MosquittoBroker(workdir / "mosquitto", users)
        rtsp = RtspServer(workdir / "rtsp", {f"cam{n}": video for n in range(args.cameras)})
        broker.start()
        rtsp.start()
        try:
            subscriber = Subscriber(broker)
            round_trips = broker_round_trip_ms(broker, subscriber, "brightkitchen/v1/ping")
            latencies, rss, rss_per_camera = run_edge(
                args,
                broker,
                subscriber,
                [rtsp.url(f"cam{n}") for n in range(args.cameras)],
                workdir,
            )
            subscriber.close()
        finally:
            rtsp.stop()
            broker.stop()
    if not latencies or not round_trips:
        print(f"nothing to measure: {len(latencies)} violations, {len(round_trips)} round trips")
        return 1
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    base_p50, base_p95 = percentile(round_trips, 0.5), percentile(round_trips, 0.95)
    what = "kitchen model, no_hat on hat_off" if args.kitchen else "marker model"
    print(
        f"alert latency ({what}) over {len(latencies)} violations from {args.cameras} cameras: "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(latencies):.1f} ms "
        f"(target p95 <= 300 ms: {'met' if p95 <= 300.0 else 'MISSED'})"
    )
    print(
        f"baseline broker round trip (paho QoS 1, {len(round_trips)} messages): p50 "
        f"{base_p50:.1f} ms, p95 {base_p95:.1f} ms; edge share of the p50: "
        f"{p50 - base_p50:.1f} ms (ratio p50 alert / p50 broker {p50 / max(base_p50, 1e-3):.1f})"
    )
    print(
        f"memory: RSS {rss:.1f} MiB with {args.cameras} cameras, "
        f"{rss_per_camera:.1f} MiB per camera"
    )
    prefix = "edge_kitchen_" if args.kitchen else "edge_"
    record(
        {
            f"{prefix}alert_latency_ms_p50": p50,
            f"{prefix}alert_latency_ms_p95": p95,
            f"{prefix}alert_latency_ms_max": max(latencies),
            f"{prefix}alert_latency_violations": len(latencies),
            f"{prefix}alert_latency_broker_round_trip_ms_p50": base_p50,
            f"{prefix}rss_mib": rss,
            f"{prefix}rss_per_camera_mib": rss_per_camera,
        },
        args.results,
    )
    print(f"figures merged into {args.results}")
    return 0


def run_edge(
    args: argparse.Namespace,
    broker: MosquittoBroker,
    subscriber: Subscriber,
    urls: list[str],
    workdir: Path,
) -> tuple[list[float], float, float]:
    """Run the edge for the duration; the latencies (ms) and the RSS (total, per camera)."""
    kitchen: dict[str, object] = {
        "rules": [
            {
                "id": "no_hat",
                "kind": "no_hat",
                "schedule": "always",
                "min_confidence": 0.25,  # the model card's default confidence
            }
        ]
    }
    config = EdgeConfig.model_validate(
        {
            "kitchen": kitchen if args.kitchen else None,
            "site": SITE,
            "edge": EDGE,
            "cameras": [
                {"id": f"cam-{n}", "url": url, "detect_fps": 5} for n, url in enumerate(urls)
            ],
            "model": {"path": str(args.model), "threads": args.threads},
            "mqtt": {
                "host": broker.host,
                "port": broker.port,
                "username": "edge",
                "password": _PASSWORD,
            },
            "outbox": {"path": str(workdir / "outbox.sqlite")},
            "status_interval_s": 30,
        }
    )
    per_worker = SchedulerConfig(workers=args.workers).threads_per_worker(args.threads)
    detector, *spares = [
        OnnxDetector(args.model, num_threads=per_worker) for _ in range(args.workers)
    ]
    rule = LabelInZoneRule(
        rule_id="marker",
        kind=ViolationKind.UNCOVERED_FOOD,
        label="red_marker",
        severity=2,
        min_duration_s=1.0,
        cooldown_s=1.0,
        max_gap_s=1.0,
    )
    outbox = SqliteOutbox(config.outbox.path)
    publisher = MqttEventPublisher(site=SITE, edge=EDGE, mqtt_config=config.mqtt, outbox=outbox)
    rss_before = rss_mib()
    sources: dict[str, FrameSource] = {
        camera.id: RtspFrameSource(camera.id, camera.url) for camera in config.cameras
    }
    worker = EdgeWorker(
        config,
        sources,
        detector,
        publisher,
        rules=() if args.kitchen else (rule,),
        spare_detectors=spares,
        motion=MotionConfig(),
        regions=RegionConfig(),
    )
    stop = threading.Event()
    runner = threading.Thread(target=worker.run_until, args=(stop,), daemon=True)
    publisher.start()
    runner.start()
    topic = violation_topic(SITE, EDGE)
    started = len(subscriber.taken(topic))
    try:
        time.sleep(args.duration_s)
        rss = rss_mib()
    finally:
        stop.set()
        runner.join(60)
        publisher.close()
        outbox.close()
    latencies = []
    for arrived_at, payload in subscriber.taken(topic)[started:]:
        event = decode_violation(payload)
        latencies.append((arrived_at - event.occurred_at).total_seconds() * 1000)
    return latencies, rss, (rss - rss_before) / len(urls)


if __name__ == "__main__":
    raise SystemExit(main())
