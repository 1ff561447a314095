"""A real RTSP server (GStreamer's gst-rtsp-server) looping video files on a loopback port."""

import contextlib
import functools
import logging
import os
import selectors
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from brightkitchen.services.ports import free_port
from brightkitchen.services.processes import stop_process

logger = logging.getLogger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"
PASSWORD_ENV = "RTSP_SERVER_PASSWORD"  # read by rtsp_server.py when --password is not given
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
INSTALL_HINT = (
    "apt-get install python3-gi python3-gst-1.0 gir1.2-gst-rtsp-server-1.0 "
    "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
)
_BINDINGS_CHECK = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstApp', '1.0'); "
    "gi.require_version('GstRtspServer', '1.0'); "
    "from gi.repository import Gst, GstApp, GstRtspServer; Gst.init(None); "
    "missing = [e for e in ('appsrc', 'h264parse', 'rtph264pay', 'qtdemux', 'appsink') "
    "if Gst.ElementFactory.find(e) is None]; "
    "assert not missing, 'missing GStreamer elements: ' + ', '.join(missing)"
)


class RtspServerError(RuntimeError):
    """The RTSP server cannot run here or did not come up."""


class RtspServerNotInstalledError(RtspServerError):
    pass


@functools.cache
def check_rtsp_server_installed(python: str = SYSTEM_PYTHON) -> None:
    """Raise RtspServerNotInstalledError, with the apt-get line, unless the server can run."""
    if not Path(python).exists():
        raise RtspServerNotInstalledError(f"{python} is missing; {INSTALL_HINT}")
    result = subprocess.run(
        [python, "-c", _BINDINGS_CHECK], capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RtspServerNotInstalledError(
            f"{python} cannot run gst-rtsp-server ({detail[0]}); {INSTALL_HINT}"
        )


class RtspServer:
    """Serve each file of mounts (mount name -> H.264 MP4) looped forever over RTSP.

    Runs brightkitchen/services/rtsp_server.py with Debian's Python (which has the GStreamer
    bindings) in its own process. Media are shared: a client that connects while others watch gets
    the live position; when nobody watches a mount it starts from the file's beginning again.
    Start, stop and start again on the same port to simulate a camera outage.
    """

    def __init__(
        self,
        workdir: Path,
        mounts: dict[str, Path],
        *,
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
        host: str = "127.0.0.1",
        python: str = SYSTEM_PYTHON,
    ) -> None:
        if not mounts:
            raise ValueError("RtspServer needs at least one mount")
        if (user is None) != (password is None):
            raise ValueError("RtspServer: user and password go together")
        for mount, path in mounts.items():
            name = mount.strip("/")
            if not name or "=" in name or any(ch.isspace() for ch in name):
                raise ValueError(f"RtspServer mount {mount!r}: want a name like 'cam1'")
            if not path.is_file():
                raise ValueError(f"RtspServer mount {mount!r}: no such file {path}")
        check_rtsp_server_installed(python)
        self._workdir = workdir
        self._mounts = {"/" + mount.strip("/"): path for mount, path in mounts.items()}
        self._user = user
        self._password = password
        self._python = python
        self.host = host
        self.port = port if port is not None else free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self._workdir / "rtsp_server.log"

    @property
    def pid(self) -> int | None:
        """The server process id while it runs (tests pause it to simulate a hung camera)."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def url(self, mount: str, *, with_credentials: bool = True) -> str:
        """rtsp://[user:password@]host:port/mount (credentials percent-encoded)."""
        name = "/" + mount.strip("/")
        if name not in self._mounts:
            raise KeyError(f"no mount {name!r}; mounts: {sorted(self._mounts)}")
        userinfo = ""
        if with_credentials and self._user is not None and self._password is not None:
            userinfo = f"{quote(self._user, safe='')}:{quote(self._password, safe='')}@"
        return f"rtsp://{userinfo}{self.host}:{self.port}{name}"

    def start(self, *, timeout_s: float = 30.0) -> None:
        """Start the server and return once its port accepts connections."""
        if self.running:
            return
        self._workdir.mkdir(parents=True, exist_ok=True)
        command = [
            self._python,
            str(SERVER_SCRIPT),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--exit-with-parent",  # no orphaned server when a test run or the demo is killed
        ]
        for mount, path in self._mounts.items():
            command += ["--mount", f"{mount}={path}"]
        env = dict(os.environ)
        if self._user is not None and self._password is not None:
            # the password goes by environment, not argv, where `ps` would show it
            command += ["--user", self._user]
            env[PASSWORD_ENV] = self._password
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        try:
            self._wait_ready(self._process, timeout_s=timeout_s)
        except RtspServerError:
            self.stop()
            raise
        logger.info("rtsp server started port=%d mounts=%s", self.port, ",".join(self._mounts))

    def _wait_ready(self, process: "subprocess.Popen[bytes]", *, timeout_s: float) -> None:
        """Wait for the script's READY line, printed once the port listens."""
        assert process.stdout is not None  # Popen was given stdout=PIPE
        deadline = time.monotonic() + timeout_s
        output = b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while b"\n" not in output:
                remaining_s = deadline - time.monotonic()
                if remaining_s <= 0:
                    raise self._failure(process, f"did not become ready within {timeout_s}s")
                if selector.select(timeout=remaining_s):
                    chunk = os.read(process.stdout.fileno(), 1024)
                    if not chunk:
                        raise self._failure(process, "exited before it was ready")
                    output += chunk
        if not output.startswith(b"READY "):
            raise self._failure(process, f"printed {output[:200]!r} instead of READY")

    def _failure(self, process: "subprocess.Popen[bytes]", what: str) -> RtspServerError:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1.0)
        log = self.log_path.read_text(errors="replace")[-2000:]
        return RtspServerError(
            f"RTSP server on {self.host}:{self.port} {what} (exit code {process.poll()}): {log}"
        )

    def stop(self, *, timeout_s: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            stop_process(process, timeout_s=timeout_s)
            logger.info("rtsp server stopped port=%d", self.port)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> "RtspServer":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
