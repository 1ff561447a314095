"""`brightkitchen demo`: broker, RTSP camera, edge worker and API on this machine."""

import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

import yaml

from brightkitchen.services.mosquitto import MosquittoBroker, MqttUser
from brightkitchen.services.ports import free_port, wait_for_port
from brightkitchen.services.rtsp import RtspServer

logger = logging.getLogger(__name__)

SITE = "demo-school"
EDGE = "kitchen-edge"
CAMERA = "prep-room"
MODEL = Path(__file__).resolve().parent.parent / "models" / "marker" / "model.onnx"


def _demo_video(workdir: Path) -> Path:
    from scenes.marker_video import write_marker_video

    path = workdir / "demo-kitchen.mp4"
    if not path.exists():
        logger.info("generating the demo camera video path=%s", path)
        write_marker_video(
            path, duration_s=40.0, marker_intervals_s=((5.0, 15.0), (25.0, 33.0)), seed=7
        )
    return path


def edge_config(*, rtsp_url: str, broker: MosquittoBroker, workdir: Path) -> dict[str, object]:
    return {
        "site": SITE,
        "edge": EDGE,
        "cameras": [{"id": CAMERA, "url": rtsp_url, "detect_fps": 5}],
        "model": {"path": str(MODEL), "confidence": 0.25},
        "rules": [
            {
                "id": "marker-on-counter",
                "kind": "uncovered_food",
                "label": "red_marker",
                "min_duration_s": 3,
                "cooldown_s": 20,
                "min_confidence": 0.5,
                "severity": 2,
            }
        ],
        "mqtt": {
            "host": broker.host,
            "port": broker.port,
            "username": EDGE,
            "password": "${BK_DEMO_EDGE_PASSWORD}",
        },
        "outbox": {"path": str(workdir / "edge-outbox.sqlite")},
    }


def run_demo(*, port: int, workdir: Path) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    edge_password = secrets.token_urlsafe(16)
    api_password = secrets.token_urlsafe(16)
    token = secrets.token_urlsafe(24)
    broker = MosquittoBroker(
        workdir / "mosquitto",
        (
            MqttUser(EDGE, edge_password, (f"topic readwrite brightkitchen/v1/{SITE}/{EDGE}/#",)),
            MqttUser("api", api_password, ("topic read brightkitchen/v1/#",)),
        ),
    )
    rtsp = RtspServer(workdir / "rtsp", {CAMERA: _demo_video(workdir)})
    config_path = workdir / "edge.yaml"
    children: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        broker.start()
        rtsp.start()
        config_path.write_text(
            yaml.safe_dump(
                edge_config(
                    rtsp_url=rtsp.url(CAMERA),
                    broker=broker,
                    workdir=workdir,
                )
            )
        )
        env = os.environ | {
            "ORT_DISABLE_TELEMETRY": "1",
            "BK_DEMO_EDGE_PASSWORD": edge_password,
            "API_DATABASE_URL": f"sqlite:///{workdir / 'brightkitchen.db'}",
            "API_MQTT_HOST": broker.host,
            "API_MQTT_PORT": str(broker.port),
            "API_MQTT_USERNAME": "api",
            "API_MQTT_PASSWORD": api_password,
            "API_ACCESS_TOKEN": token,
        }
        api_port = port or free_port()
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(api_port)],
                env=env,
            )
        )
        children.append(
            subprocess.Popen([sys.executable, "-m", "edge", "--config", str(config_path)], env=env)
        )
        wait_for_port(api_port, timeout_s=30)
        print(
            "\nBrightKitchen demo is running. Open this URL (it signs you in):\n"
            f"    http://127.0.0.1:{api_port}/login?token={token}\n"
            "Violations appear within seconds. Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stop.wait(1.0):
            for child in children:
                if child.poll() is not None:
                    logger.error(
                        "a demo process exited code=%s args=%s", child.returncode, child.args
                    )
                    return 1
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        rtsp.stop()
        broker.stop()
        print("BrightKitchen demo stopped.", flush=True)
    return 0
