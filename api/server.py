"""ApiServer: uvicorn that ends open live streams first at shutdown and never logs the token."""

import logging
import re
import socket

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from api.deps import Components

_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s]*")
_SHARE_TOKEN = re.compile(r"(/share/)[^?\s/]*")


class RedactTokenFilter(logging.Filter):
    """Blanks tokens in access-log lines: `/login?token=...` and parents' `/share/<token>`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SHARE_TOKEN.sub(r"\1<redacted>", _TOKEN_IN_QUERY.sub(r"\1<redacted>", arg))
                if isinstance(arg, str)
                else arg
                for arg in record.args
            )
        return True


class ApiServer(uvicorn.Server):
    """A uvicorn server that closes the live hub before waiting for open connections.

    Server-Sent Event responses never finish by themselves, so without this a graceful
    shutdown would wait for them until `timeout_graceful_shutdown`.
    """

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        components = getattr(self._app.state, "components", None)
        if isinstance(components, Components):
            components.hub.close()
            components.previews.close()
        await super().shutdown(sockets)


def build_server(
    app: FastAPI, *, host: str, port: int, configure_logging: bool = True
) -> ApiServer:
    """A server for `app`; `configure_logging=False` leaves logging alone (tests, embedding)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="none",
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=5,
        log_config=LOGGING_CONFIG if configure_logging else None,
    )
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokenFilter) for f in access.filters):
        access.addFilter(RedactTokenFilter())
    return ApiServer(config, app)
