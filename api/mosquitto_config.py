"""Mosquitto's password and ACL files, generated from the device registry.

Each edge device may only publish under brightkitchen/v1/<its site>/<its edge>/#; the API's own
user may read every edge's topics. The passwords are Mosquitto's own `$7$` hashes, kept in the
registry since the device was created, so no plaintext ever reaches this file or the database.
"""

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from api.credentials import mosquitto_password_hash
from api.registry import RegistryStore, mqtt_username
from contracts import TOPIC_ROOT


@dataclass(frozen=True, slots=True)
class BrokerUser:
    username: str
    password_hash: str  # Mosquitto's `$7$` format
    acl: tuple[str, ...]


def edge_acl(site: str, edge: str) -> tuple[str, ...]:
    return (f"topic write {TOPIC_ROOT}/{site}/{edge}/#",)


def api_acl() -> tuple[str, ...]:
    return (f"topic read {TOPIC_ROOT}/#",)


def broker_users(
    registry: RegistryStore, *, api_username: str, api_password: str
) -> list[BrokerUser]:
    """The API's user, then every enabled edge device, by site and edge."""
    users = [BrokerUser(api_username, mosquitto_password_hash(api_password), api_acl())]
    for device, site in registry.devices():
        if device.disabled:
            continue
        users.append(
            BrokerUser(
                mqtt_username(site, device.edge),
                device.mqtt_password_hash,
                edge_acl(site, device.edge),
            )
        )
    return users


def render_passwd(users: Sequence[BrokerUser]) -> str:
    return "".join(f"{user.username}:{user.password_hash}\n" for user in users)


def render_acl(users: Sequence[BrokerUser]) -> str:
    blocks = ["\n".join((f"user {user.username}", *user.acl)) for user in users]
    return "\n\n".join(blocks) + "\n"


def write_config(users: Sequence[BrokerUser], out_dir: Path) -> tuple[Path, Path]:
    """Write `passwd` and `acl` into `out_dir` (mode 0600, replaced atomically); their paths.

    Point mosquitto.conf's `password_file` and `acl_file` at them and send mosquitto SIGHUP.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in (("passwd", render_passwd(users)), ("acl", render_acl(users))):
        path = out_dir / name
        with tempfile.NamedTemporaryFile(
            "w", dir=out_dir, prefix=f".{name}.", delete=False
        ) as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
        Path(handle.name).replace(path)
        paths.append(path)
    return paths[0], paths[1]
