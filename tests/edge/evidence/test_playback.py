"""A clip the edge writes plays in headless Chromium, served over plain HTTP from loopback."""

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.evidence.clip import encode_clip
from edge.evidence.ring import FrameRing
from tests.edge.evidence.frames import marked_frame
from tests.fixtures.chromium import chromium

pytestmark = pytest.mark.integration

PAGE = '<!doctype html><video id="clip" src="clip.mp4" muted playsinline></video>'


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_clip_plays_in_headless_chromium(served: tuple[str, Path]) -> None:
    base_url, root = served
    ring = FrameRing("cam-1", seconds=20.0, fps=10.0)
    for index in range(40):  # 4 s at 10 fps, 640x360
        ring.append(marked_frame(index / 10, index))
    encode_clip(ring.frames(), root / "clip.mp4")
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{base_url}/index.html")
        page.wait_for_function(
            "() => { const v = document.getElementById('clip');"
            " return v.readyState >= 2 || v.error !== null; }"
        )
        state = page.evaluate(
            "() => { const v = document.getElementById('clip');"
            " return [v.readyState, v.error && v.error.code, v.videoWidth, v.duration]; }"
        )
        assert state[1] is None, f"MediaError code {state[1]}"
        assert state[0] >= 2
        assert state[2] == 640
        assert state[3] == pytest.approx(4.0, abs=0.15)
        page.evaluate("() => document.getElementById('clip').play()")
        page.wait_for_function("() => document.getElementById('clip').currentTime > 0.5")
