"""`brightkitchen demo` end to end: a supervisor sees a violation with its snapshot, a parent sees
the live view, and Ctrl-C stops the demo and every process it started.

Runs the real command (mosquitto, the RTSP server, the API, the edge with the kitchen model) and
headless Chromium on its two printed URLs.
"""

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Page

from api.kinds import KIND_LABELS
from brightkitchen.demo_canteen import API_TOKEN_ENV, CAMERAS, MQTT_PASSWORD_ENV, PREVIEW_WIDTH_PX
from brightkitchen.services.ports import free_port
from brightkitchen.services.processes import stop_process
from contracts import ViolationKind
from tests.fixtures.chromium import chromium

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SUPERVISOR_URL = re.compile(r"Supervisor console[^:]*:\s*(http://\S+/login\?token=\S+)")
PARENT_URL = re.compile(r"Parents' live view[^:]*:\s*(http://\S+/share/\S+)")
# the kinds the kitchen model raises (not camera health): what the demo is there to show
DETECTED_KINDS = (
    ViolationKind.RODENT,
    ViolationKind.NO_HAT,
    ViolationKind.UNCOVERED_FOOD,
    ViolationKind.NO_MASK,
)
# the process each child of the demo runs, by a piece of its command line
CHILDREN = {
    "mosquitto": "mosquitto",
    "rtsp server": "rtsp_server.py",
    "api": "-m api",
    "edge": "-m edge",
}


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    details: Callable[[], str] = str,
) -> None:
    """Return once `condition()` holds; fail naming `what` after `timeout_s` (not a timing test)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}\n{details()}")
        time.sleep(0.2)


@dataclass
class Demo:
    process: subprocess.Popen[str]
    log_path: Path  # the demo's own log (stderr); its children log under <workdir>/run/logs
    lines: list[str] = field(default_factory=list)  # what it printed on stdout

    def output(self) -> str:
        return "".join(self.lines) + self.log_path.read_text(errors="replace")[-4000:]

    def url(self, pattern: re.Pattern[str]) -> str | None:
        if self.process.poll() is not None:
            pytest.fail(f"the demo exited with {self.process.returncode}:\n{self.output()}")
        found = pattern.search("".join(self.lines))
        return found.group(1) if found else None


@contextmanager
def running_demo(workdir: Path, log_path: Path) -> Iterator[Demo]:
    command = [sys.executable, "-m", "brightkitchen", "demo", "--port", str(free_port())]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "--workdir", str(workdir)],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    demo = Demo(process, log_path)
    stdout = process.stdout
    assert stdout is not None  # stdout=PIPE

    def read() -> None:
        for line in stdout:
            demo.lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield demo
    finally:
        stop_process(
            process, sig=signal.SIGINT, timeout_s=60
        )  # the test failed before it stopped the demo
        reader.join(timeout=10)
        stdout.close()


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a live process; None when it is gone (a zombie is gone too)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text.rpartition(")")[2].split()[:2]
    return (int(ppid), state) if state != "Z" else None


def children_of(pid: int) -> dict[int, str]:
    """Pid -> command line of every live direct child of `pid`."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and stat[0] == pid:
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue  # it just exited
            found[int(entry.name)] = command.replace(b"\0", b" ").decode(errors="replace")
    return found


@pytest.fixture(scope="session")
def demo_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's workdir: it renders its scenario videos there once and reuses them."""
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def evidence_kinds(base_url: str, token: str, violation_id: str) -> set[str]:
    response = httpx.get(
        f"{base_url}/api/v1/violations/{violation_id}/case",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    return {str(item["kind"]) for item in response.json()["evidence"]}


def detected_rows(page: Page) -> dict[str, str]:
    """Violation id -> its kind's label, for the queue's rows of kinds the model raises."""
    labels = {label for kind in DETECTED_KINDS for label in KIND_LABELS[kind]}
    rows: list[list[str]] = page.evaluate(
        "[...document.querySelectorAll('#violations-body tr')]"
        ".map((row) => [row.dataset.violationId, row.cells[3].textContent])"
    )
    return {violation_id: label for violation_id, label in rows if label in labels}


def image_width(page: Page, selector: str) -> int:
    """The natural width of the image `selector`: 0 until a picture has loaded (or no image)."""
    width: int = page.evaluate(
        "(selector) => { const img = document.querySelector(selector);"
        " return img ? img.naturalWidth : 0; }",
        selector,
    )
    return width


def image_is(page: Page, selector: str, *, width_px: int) -> Callable[[], bool]:
    return lambda: image_width(page, selector) == width_px


def test_the_demo_shows_violations_with_snapshots_and_the_live_view_then_stops(
    demo_workdir: Path, tmp_path: Path, browser: Browser
) -> None:
    with running_demo(demo_workdir, tmp_path / "demo.log") as demo:
        # rendering the scenarios (first run), the API, the edge loading the model
        wait_until(
            lambda: demo.url(SUPERVISOR_URL) is not None and demo.url(PARENT_URL) is not None,
            timeout_s=200,
            what="the demo to print its two URLs",
            details=demo.output,
        )
        supervisor_url, parent_url = demo.url(SUPERVISOR_URL), demo.url(PARENT_URL)
        assert supervisor_url is not None
        assert parent_url is not None
        split = urlsplit(supervisor_url)
        base_url = f"{split.scheme}://{split.netloc}"
        (token,) = parse_qs(split.query)["token"]
        children = children_of(demo.process.pid)
        for name, command in CHILDREN.items():
            assert any(command in line for line in children.values()), (name, children)

        # secrets reach the edge through its environment, never its config file
        config = yaml.safe_load((demo_workdir / "run" / "edge.yaml").read_text())
        assert config["upload"]["token"] == "${" + API_TOKEN_ENV + "}"
        assert config["mqtt"]["password"] == "${" + MQTT_PASSWORD_ENV + "}"
        assert "kitchen/model.onnx" in config["model"]["path"]

        supervisor = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = supervisor.new_page()
            page.set_default_timeout(30_000)
            page.goto(supervisor_url)
            assert page.url == f"{base_url}/supervisor"
            wait_until(
                lambda: bool(detected_rows(page)),
                timeout_s=150,
                what="a rodent, hat, mask or food violation on the supervisor's page",
                details=demo.output,
            )
            rows = detected_rows(page)
            rodent = KIND_LABELS[ViolationKind.RODENT]
            rodents = [vid for vid, label in rows.items() if label in rodent]
            violation_id = rodents[0] if rodents else next(iter(rows))
            wait_until(
                lambda: {"snapshot", "clip"} <= evidence_kinds(base_url, token, violation_id),
                timeout_s=90,
                what=f"the snapshot and the clip of {rows[violation_id]} {violation_id}",
                details=demo.output,
            )
            page.locator(f'#violations-body tr[data-violation-id="{violation_id}"]').click()
            wait_until(
                lambda: image_width(page, "#snapshot") > 0,
                timeout_s=30,
                what="the snapshot to load in the case view",
            )
            assert page.locator("#clip").count() == 1
        finally:
            supervisor.close()

        parent = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        try:
            page = parent.new_page()
            page.set_default_timeout(30_000)
            # an MJPEG image never finishes loading: the page is ready once its DOM is
            page.goto(parent_url, wait_until="domcontentloaded")
            assert page.url == f"{base_url}/parent"
            for camera in CAMERAS:
                # the edge's preview: the 640 px camera picture scaled to the configured width
                wait_until(
                    image_is(page, f"#live-{camera.id}", width_px=PREVIEW_WIDTH_PX),
                    timeout_s=60,
                    what=f"the live view of {camera.id}",
                    details=demo.output,
                )
        finally:
            parent.close()

        demo.process.send_signal(signal.SIGINT)
        assert demo.process.wait(timeout=90) == 0, demo.output()
        wait_until(
            lambda: all(_stat(pid) is None for pid in children),
            timeout_s=30,
            what=f"the demo's processes to end: {children}",
        )
        assert "BrightKitchen demo stopped." in "".join(demo.lines)
