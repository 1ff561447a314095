"""`python -m api COMMAND`: create-admin, mosquitto-config, export-dataset, retention."""

import argparse
import getpass
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError

from api.clock import utc_now
from api.errors import ApiError, ConflictError
from api.export import export_dataset
from api.main import open_database, password_hashing
from api.mosquitto_config import broker_users, write_config
from api.principal import Role
from api.registry import RegistryStore
from api.retention import RetentionPolicy, apply_retention
from api.settings import ApiSettings, describe_settings_error
from api.storage import FilesystemStorage
from api.store import ViolationStore

logger = logging.getLogger(__name__)

COMMANDS = ("create-admin", "mosquitto-config", "export-dataset", "retention")
PASSWORD_ENV = "BK_ADMIN_PASSWORD"
API_MQTT_PASSWORD_ENV = "API_MQTT_PASSWORD"


def _settings() -> ApiSettings | None:
    try:
        return ApiSettings()
    except ValidationError as err:
        for line in describe_settings_error(err):
            logger.error("invalid setting %s", line)
        return None


def _create_admin(settings: ApiSettings, store: ViolationStore, args: argparse.Namespace) -> int:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"password for {args.username}: ")
    registry = RegistryStore(store.database, password_hashing(settings))
    try:
        registry.create_user(
            args.username, password, Role.ADMIN, now=utc_now(), display_name=args.display_name
        )
    except ConflictError:
        logger.error("a user named %s exists already", args.username)
        return 1
    logger.info("admin created username=%s", args.username)
    return 0


def _mosquitto_config(
    settings: ApiSettings, store: ViolationStore, args: argparse.Namespace
) -> int:
    api_password = settings.mqtt_password
    if settings.mqtt_username is None or api_password is None:
        logger.error("API_MQTT_USERNAME and API_MQTT_PASSWORD name the API's own broker user")
        return 2
    registry = RegistryStore(store.database, password_hashing(settings))
    users = broker_users(
        registry,
        api_username=settings.mqtt_username,
        api_password=api_password.get_secret_value(),
    )
    passwd, acl = write_config(users, args.out)
    logger.info("mosquitto files written passwd=%s acl=%s users=%d", passwd, acl, len(users))
    return 0


def _export(settings: ApiSettings, store: ViolationStore, args: argparse.Namespace) -> int:
    report = export_dataset(store, FilesystemStorage(settings.storage_dir), args.out)
    logger.info(
        "dataset exported out=%s confirmed=%d false_alarms=%d skipped_no_snapshot=%d",
        args.out,
        report.confirmed,
        report.false_alarms,
        report.skipped,
    )
    return 0


def _retention(settings: ApiSettings, store: ViolationStore, _args: argparse.Namespace) -> int:
    policy = RetentionPolicy(
        max_age=timedelta(days=settings.retention_days), quota_bytes=settings.storage_quota_bytes
    )
    report = apply_retention(
        store.database, FilesystemStorage(settings.storage_dir), policy, now=utc_now()
    )
    logger.info(
        "retention done by_age=%d by_quota=%d freed_bytes=%d usage_bytes=%d",
        report.deleted_by_age,
        report.deleted_by_quota,
        report.freed_bytes,
        report.usage_bytes,
    )
    return 0


def run_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser(
        "create-admin",
        help=f"create an admin user (password from ${PASSWORD_ENV}, else stdin or a prompt)",
    )
    admin.add_argument("--username", required=True)
    admin.add_argument("--display-name", default=None)
    admin.set_defaults(run=_create_admin)
    mosquitto = commands.add_parser(
        "mosquitto-config", help="write Mosquitto's passwd and acl files from the device registry"
    )
    mosquitto.add_argument("--out", type=Path, required=True, help="directory for the files")
    mosquitto.set_defaults(run=_mosquitto_config)
    export = commands.add_parser(
        "export-dataset",
        help="export confirmed violations and dismissed false alarms as a labelled image set",
    )
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(run=_export)
    retention = commands.add_parser("retention", help="apply the evidence retention policy now")
    retention.set_defaults(run=_retention)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings()
    if settings is None:
        return 2
    try:
        engine = open_database(settings.database_url)
    except ApiError as err:
        logger.error("%s", err)
        return 1
    try:
        code: int = args.run(settings, ViolationStore(engine), args)
        return code
    except ApiError as err:
        logger.error("%s: %s", args.command, err)
        return 1
    finally:
        engine.dispose()
