"""A real Mosquitto broker on a loopback port with its own config, users and ACL, in a temp dir."""

import getpass
import logging
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from brightkitchen.services.ports import free_port, wait_for_port
from brightkitchen.services.processes import stop_process

logger = logging.getLogger(__name__)


class MosquittoNotInstalledError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class MqttUser:
    username: str
    password: str
    # ACL lines for this user, e.g. "topic write brightkitchen/v1/site-1/edge-1/#"; empty: no access
    acl: tuple[str, ...] = field(default=())


class MosquittoBroker:
    """Start, stop and restart mosquitto on a fixed port; persistence survives a restart."""

    def __init__(
        self,
        workdir: Path,
        users: tuple[MqttUser, ...],
        *,
        port: int | None = None,
        executable: str = "mosquitto",
    ) -> None:
        found = shutil.which(executable) or (
            f"/usr/sbin/{executable}" if Path(f"/usr/sbin/{executable}").exists() else None
        )
        if found is None:
            raise MosquittoNotInstalledError(
                "mosquitto is not installed (apt-get install mosquitto)"
            )
        self._executable = found
        self._workdir = workdir
        self.port = port if port is not None else free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config(users)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def log_path(self) -> Path:
        return self._workdir / "mosquitto.log"

    def _write_config(self, users: tuple[MqttUser, ...]) -> None:
        self._workdir.mkdir(parents=True, exist_ok=True)
        passwd = self._workdir / "passwd"
        passwd.write_text("")
        passwd.chmod(0o600)
        for user in users:
            subprocess.run(
                ["mosquitto_passwd", "-b", str(passwd), user.username, user.password],
                check=True,
                capture_output=True,
            )
        acl_lines: list[str] = []
        for user in users:
            acl_lines.append(f"user {user.username}")
            acl_lines.extend(user.acl)
            acl_lines.append("")
        acl = self._workdir / "acl"
        acl.write_text("\n".join(acl_lines))
        acl.chmod(0o600)
        (self._workdir / "data").mkdir(exist_ok=True)
        (self._workdir / "mosquitto.conf").write_text(
            "\n".join(
                [
                    # run as whoever started us: as root, mosquitto would switch to the
                    # 'mosquitto' user, which cannot read files in our temp dir
                    f"user {getpass.getuser()}",
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous false",
                    f"password_file {passwd}",
                    f"acl_file {acl}",
                    "persistence true",
                    f"persistence_location {self._workdir / 'data'}/",
                    "autosave_interval 1",
                    f"log_dest file {self.log_path}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "log_type information",
                    "max_queued_messages 100000",
                    "",
                ]
            )
        )

    def start(self, *, timeout_s: float = 10.0) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        stderr_path = self._workdir / "stderr.log"
        with stderr_path.open("ab") as stderr:
            self._process = subprocess.Popen(
                [self._executable, "-c", str(self._workdir / "mosquitto.conf")],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        try:
            wait_for_port(self.port, timeout_s=timeout_s)
        except TimeoutError as err:
            self.stop()
            raise RuntimeError(
                f"mosquitto did not start on port {self.port}: {stderr_path.read_text()[-2000:]}"
            ) from err
        logger.info("mosquitto started port=%d", self.port)

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Graceful stop (SIGTERM): mosquitto writes its persistence file before it exits."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        stop_process(process, timeout_s=timeout_s)
        logger.info("mosquitto stopped port=%d", self.port)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> "MosquittoBroker":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
