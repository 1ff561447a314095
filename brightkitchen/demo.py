"""Running the demo: broker, RTSP cameras, API, registration, edge, the two URLs, a clean stop."""

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
import yaml

from brightkitchen.demo_canteen import (
    API_TOKEN_ENV,
    CAMERAS,
    EDGE,
    MQTT_PASSWORD_ENV,
    SITE,
    Registration,
    edge_config,
    register_canteen,
    render_camera_videos,
)
from brightkitchen.services.mosquitto import MosquittoBroker, MqttUser
from brightkitchen.services.ports import free_port
from brightkitchen.services.processes import stop_process
from brightkitchen.services.rtsp import RtspServer

logger = logging.getLogger(__name__)

API_START_TIMEOUT_S = 90.0
EDGE_ONLINE_TIMEOUT_S = 120.0
CHILD_STOP_TIMEOUT_S = 20.0
LOG_TAIL_CHARS = 3000


class DemoError(RuntimeError):
    """A part of the demo did not start; the message says which and why."""


@dataclass(frozen=True, slots=True)
class _Child:
    name: str
    process: "subprocess.Popen[bytes]"
    log_path: Path

    def failure(self) -> DemoError:
        tail = self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
        return DemoError(
            f"the {self.name} exited with code {self.process.returncode}; "
            f"the end of {self.log_path}:\n{tail}"
        )


def _start(name: str, args: list[str], env: dict[str, str], logs: Path) -> _Child:
    log_path = logs / f"{name}.log"
    with log_path.open("ab") as log:
        # a session of its own: only the demo gets the terminal's Ctrl-C, then stops each child
        # once and in order (a second SIGINT would make uvicorn drop its connections)
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return _Child(name, process, log_path)


def _stop(child: _Child) -> None:
    if stop_process(child.process, sig=signal.SIGINT, timeout_s=CHILD_STOP_TIMEOUT_S):
        logger.warning("killed a demo process that did not stop name=%s", child.name)


def _check(children: list[_Child]) -> None:
    """DemoError, with the end of its log, when a child has exited."""
    for child in children:
        if child.process.poll() is not None:
            raise child.failure()


def _wait(
    condition: Callable[[], bool], *, timeout_s: float, what: str, children: list[_Child]
) -> bool:
    """Poll `condition` until true (True) or timeout_s (False); DemoError if a child exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        _check(children)
        if condition():
            return True
        if time.monotonic() > deadline:
            logger.warning("gave up waiting for %s after %.0f s", what, timeout_s)
            return False
        time.sleep(0.25)


def _api_healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code == httpx.codes.OK
    except httpx.HTTPError:
        return False


def _edge_online(base_url: str, operator_token: str) -> bool:
    try:
        response = httpx.get(
            f"{base_url}/api/v1/edges",
            headers={"Authorization": f"Bearer {operator_token}"},
            timeout=5,
        )
    except httpx.HTTPError:
        return False
    if response.status_code != httpx.codes.OK:
        return False
    return any(
        status.get("site") == SITE
        and status.get("edge") == EDGE
        and status.get("state") == "online"
        for status in response.json()
    )


def _follow_violations(log_path: Path, stop: threading.Event) -> None:
    """Echo each violation the edge raises (from its log), so the terminal shows it at work."""
    pending = ""
    with log_path.open(errors="replace") as log:
        while not stop.is_set():
            chunk = log.readline()
            if not chunk:
                stop.wait(0.5)
                continue
            pending += chunk
            if not pending.endswith("\n"):
                continue  # the edge is still writing this line
            line, pending = pending, ""
            # kitchen rules log "incident started", generic rules "violation created"
            if "incident started" in line or "violation created" in line:
                fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
                logger.info(
                    "violation kind=%s camera=%s rule=%s",
                    fields.get("kind", "?"),
                    fields.get("camera", "?"),
                    fields.get("rule", "?"),
                )


def _print_urls(base_url: str, operator_token: str, registration: Registration, logs: Path) -> None:
    cameras = "\n".join(f"    {camera.id:<11} {camera.name}: {camera.shows}" for camera in CAMERAS)
    print(
        "\nBrightKitchen demo is running. The kitchen model watches two cameras that play\n"
        f"generated canteen scenarios in a loop:\n{cameras}\n\n"
        f"  Supervisor console (signs you in): {base_url}/login?token={operator_token}\n"
        f"  Parents' live view (share link):   {registration.share_url}\n\n"
        "Violations (a rodent, a missing hat, uncovered food) appear on the supervisor console\n"
        "within about half a minute, each with a snapshot and a short clip. For the demo every\n"
        "rule runs at any hour (schedule: always). Logs: "
        f"{logs}. Press Ctrl-C to stop.\n",
        flush=True,
    )


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_demo(*, port: int, workdir: Path) -> int:
    """Run everything until Ctrl-C (or SIGTERM): 0 after a clean stop, 1 when a part failed."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    previous_handlers = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, _raise_interrupt),
    }
    workdir = workdir.resolve()
    run_dir = workdir / "run"  # this run's state; the rendered videos are kept across runs
    logs = run_dir / "logs"
    edge_password = secrets.token_urlsafe(16)
    api_password = secrets.token_urlsafe(16)
    operator_token = secrets.token_urlsafe(24)
    children: list[_Child] = []
    services: list[MosquittoBroker | RtspServer] = []
    stop_following = threading.Event()
    code = 0
    try:
        videos = render_camera_videos(workdir / "scenarios")
        shutil.rmtree(run_dir, ignore_errors=True)
        logs.mkdir(parents=True)
        broker = MosquittoBroker(
            run_dir / "mosquitto",
            (
                # the demo's own broker users; a deployment generates them from the API's device
                # registry (`brightkitchen api mosquitto-config`)
                MqttUser(
                    EDGE, edge_password, (f"topic readwrite brightkitchen/v1/{SITE}/{EDGE}/#",)
                ),
                MqttUser("api", api_password, ("topic read brightkitchen/v1/#",)),
            ),
        )
        services.append(broker)
        broker.start()
        rtsp = RtspServer(run_dir / "rtsp", videos)
        services.append(rtsp)
        rtsp.start()
        api_port = port or free_port()
        base_url = f"http://127.0.0.1:{api_port}"
        api_env = os.environ | {
            "API_DATABASE_URL": f"sqlite:///{run_dir / 'brightkitchen.db'}",
            "API_STORAGE_DIR": str(run_dir / "api-evidence"),
            "API_PUBLIC_BASE_URL": base_url,
            "API_MQTT_HOST": broker.host,
            "API_MQTT_PORT": str(broker.port),
            "API_MQTT_USERNAME": "api",
            "API_MQTT_PASSWORD": api_password,
            "API_ACCESS_TOKEN": operator_token,
        }
        api_args = ["api", "--host", "127.0.0.1", "--port", str(api_port)]
        children.append(_start("api", api_args, api_env, logs))
        logger.info("waiting for the API url=%s", base_url)
        api_up = _wait(
            lambda: _api_healthy(base_url),
            timeout_s=API_START_TIMEOUT_S,
            what="the API",
            children=children,
        )
        if not api_up:
            raise DemoError(f"the API did not become healthy; see {children[0].log_path}")
        registration = register_canteen(base_url, operator_token)
        logger.info("registered site=%s cameras=%d edge=%s", SITE, len(CAMERAS), EDGE)
        config_path = run_dir / "edge.yaml"
        config = edge_config(
            rtsp_urls={camera.id: rtsp.url(camera.id) for camera in CAMERAS},
            mqtt_port=broker.port,
            api_url=base_url,
            run_dir=run_dir,
        )
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        edge_env = os.environ | {
            "ORT_DISABLE_TELEMETRY": "1",
            MQTT_PASSWORD_ENV: edge_password,
            API_TOKEN_ENV: registration.device_token,
        }
        edge = _start("edge", ["edge", "--config", str(config_path)], edge_env, logs)
        children.append(edge)
        threading.Thread(
            target=_follow_violations, args=(edge.log_path, stop_following), daemon=True
        ).start()
        logger.info("waiting for the edge to report online (it loads the kitchen model)")
        _wait(
            lambda: _edge_online(base_url, operator_token),
            timeout_s=EDGE_ONLINE_TIMEOUT_S,
            what="the edge",
            children=children,
        )
        _print_urls(base_url, operator_token, registration, logs)
        while True:
            _check(children)
            time.sleep(1.0)
    except KeyboardInterrupt:
        logger.info("stopping the demo")
    except (RuntimeError, OSError, httpx.HTTPError) as err:
        # DemoError, RegistrationError, a service that is not installed or did not start
        logger.error("%s", err)
        code = 1
    finally:
        # a second Ctrl-C must not cut the shutdown short and leave processes behind
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_following.set()
        for child in reversed(children):  # the edge first, then the API
            _stop(child)
        for service in reversed(services):
            service.stop()
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
        print("BrightKitchen demo stopped.", flush=True)
    return code
