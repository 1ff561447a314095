"""FakeEvidenceApi: a real HTTP server on loopback that answers edge uploads like the API.

It checks the bearer token and X-Content-SHA256, answers 404 for violations it does not know yet,
201 for a first upload, 200 for the same bytes again and 409 for different ones; `mode` makes it
answer 503 to everything, and stop()/start() make it stop listening and come back on its port.
"""

import hashlib
import http.server
import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Self

import httpx

TOKEN = "edge-device-token"
_EVIDENCE = re.compile(r"^/api/v1/edge/violations/([0-9a-f-]{36})/(clip|snapshot)$")
_PREVIEW = re.compile(r"^/api/v1/edge/cameras/([A-Za-z0-9_-]{1,64})/preview$")


def _sniff(body: bytes) -> str | None:
    """What the bytes are, judged as the API judges them."""
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(body) >= 12 and body[4:8] == b"ftyp":
        return "video/mp4"
    return None


class Mode(StrEnum):
    ACCEPT = "accept"
    UNAVAILABLE = "unavailable"  # 503 to everything


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    status: int
    size_bytes: int


class FakeEvidenceApi:
    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.mode = Mode.ACCEPT
        self.known: set[str] = set()  # violation ids that "arrived by MQTT"
        self.forced: dict[str, int] = {}  # violation id -> status to answer instead
        self.stored: dict[tuple[str, str], bytes] = {}
        self.previews: dict[str, list[bytes]] = {}
        self.requests: list[Request] = []
        self.preview_gate: threading.Event | None = None  # previews wait for it to be set
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._clients: list[httpx.Client] = []

    def client(self, token: str = TOKEN) -> httpx.Client:
        """An httpx client for this API with a bearer token; closed by close_clients()."""
        client = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=5.0
        )
        self._clients.append(client)
        return client

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                gate = api.preview_gate
                if gate is not None and _PREVIEW.match(self.path):
                    gate.wait(timeout=30)
                status = api.answer(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output quiet

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (connections are refused until start())."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self.close_clients()

    def statuses(self, path_part: str = "") -> list[int]:
        with self._lock:
            return [r.status for r in self.requests if path_part in r.path]

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            status = self._answer(path, {k.lower(): v for k, v in headers.items()}, body)
            self.requests.append(Request(path, status, len(body)))
            return status

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        if self.mode is Mode.UNAVAILABLE:
            return 503
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401
        preview = _PREVIEW.match(path)
        if preview is not None:
            if headers.get("content-type") != "image/jpeg" or _sniff(body) != "image/jpeg":
                return 415
            self.previews.setdefault(preview.group(1), []).append(body)
            return 204
        match = _EVIDENCE.match(path)
        if match is None:
            return 404
        violation_id, kind = match.groups()
        if violation_id in self.forced:
            return self.forced[violation_id]
        if violation_id not in self.known:
            return 404
        wanted = "video/mp4" if kind == "clip" else "image/jpeg"
        if headers.get("content-type") != wanted or _sniff(body) != wanted:
            return 415
        if headers.get("x-content-sha256") != hashlib.sha256(body).hexdigest():
            return 422
        previous = self.stored.get((violation_id, kind))
        if previous is not None:
            return 200 if previous == body else 409
        self.stored[(violation_id, kind)] = body
        return 201
