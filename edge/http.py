"""MetricsHttpServer: `GET /metrics` in Prometheus' text format, on a small threaded HTTP server.

Bound to loopback it answers anyone (only this box can reach it). Bound elsewhere it needs a
bearer token (MetricsConfig refuses such a config without one) and answers 401 without the right
`Authorization: Bearer <token>`; the token is compared in constant time and never logged.
"""

import hmac
import logging
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from edge.metrics import CONTENT_TYPE, MetricsConfig

logger = logging.getLogger(__name__)


class MetricsHttpServer:
    """Serves render() at /metrics from a daemon thread until close()."""

    def __init__(
        self,
        render: Callable[[], str],
        *,
        host: str = "127.0.0.1",
        port: int = 9108,
        bearer_token: str | None = None,
    ) -> None:
        self._render = render
        self._token = None if bearer_token is None else bearer_token.encode()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},  # how soon close() is noticed
            name="metrics-http",
            daemon=True,
        )

    @classmethod
    def from_config(cls, config: MetricsConfig, render: Callable[[], str]) -> "MetricsHttpServer":
        token = None if config.bearer_token is None else config.bearer_token.get_secret_value()
        return cls(render, host=config.host, port=config.port, bearer_token=token)

    @property
    def port(self) -> int:
        """The bound port (the chosen one when constructed with port 0)."""
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    def start(self) -> None:
        self._thread.start()
        logger.info("metrics listening host=%s port=%d auth=%s", self.host, self.port, self._auth)

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> "MetricsHttpServer":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def _auth(self) -> str:
        return "none" if self._token is None else "bearer"

    def _authorized(self, header: str | None) -> bool:
        if self._token is None:
            return True
        scheme, _, credentials = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode(), self._token
        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "brightkitchen-edge"
            sys_version = ""

            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self._reply(HTTPStatus.NOT_FOUND, b"not found\n")
                    return
                if not server._authorized(self.headers.get("Authorization")):
                    self._reply(HTTPStatus.UNAUTHORIZED, b"bearer token required\n", auth=True)
                    return
                try:
                    body = server._render().encode()
                except Exception:  # the request boundary: answer 500, keep serving
                    logger.exception("rendering the metrics failed")
                    self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, b"metrics failed\n")
                    return
                self._reply(HTTPStatus.OK, body, content_type=CONTENT_TYPE)

            def _reply(
                self,
                status: HTTPStatus,
                body: bytes,
                *,
                content_type: str = "text/plain; charset=utf-8",
                auth: bool = False,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if auth:
                    self.send_header("WWW-Authenticate", 'Bearer realm="metrics"')
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                logger.debug("metrics request %s", format % args)

        return Handler
