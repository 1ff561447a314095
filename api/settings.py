"""ApiSettings: the central service's configuration, read from `API_*` environment variables."""

from dataclasses import dataclass
from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "API_"
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True, slots=True)
class MqttOptions:
    """How the ingest reaches the broker; built from ApiSettings by `ApiSettings.mqtt_options()`."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    tls_ca_file: Path | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 24 * 3600
    reconnect_min_s: int = 1
    reconnect_max_s: int = 30
    shared_group: str | None = None
    receive_maximum: int = 1000
    batch_max: int = 500

    def __repr__(self) -> str:  # never show the password
        return (
            f"MqttOptions(host={self.host!r}, port={self.port}, client_id={self.client_id!r}, "
            f"username={self.username!r}, tls={self.tls_ca_file is not None})"
        )


class ApiSettings(BaseSettings):
    """Every knob of the API; no default credentials (the operator token is off unless set)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    database_url: str = "sqlite:///./var/brightkitchen.db"

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_tls_ca_file: Path | None = None
    mqtt_client_id: str = Field(default="brightkitchen-api", min_length=1, max_length=64)
    mqtt_keepalive_s: int = Field(default=30, ge=5, le=3600)
    # how long the broker keeps our subscriptions and queues messages while we are away
    mqtt_session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    mqtt_reconnect_min_s: int = Field(default=1, ge=1)
    mqtt_reconnect_max_s: int = Field(default=30, ge=1)
    ingest_enabled: bool = True
    # several replicas split the violations with `$share/<group>/...` (None: each gets all)
    mqtt_shared_group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    mqtt_receive_maximum: int = Field(default=1000, ge=1, le=65535)
    ingest_batch_max: int = Field(default=500, ge=1)

    # An optional operator token with admin scope, for automation and `make demo`; unset: off.
    access_token: SecretStr | None = Field(default=None, min_length=MIN_TOKEN_LENGTH)
    session_max_age_s: int = Field(default=12 * 3600, ge=60)
    password_hash_memory_kib: int = Field(default=64 * 1024, ge=8)
    password_hash_time_cost: int = Field(default=3, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_s: int = Field(default=15 * 60, ge=1)
    # creates this admin at start when no user has the name (the demo; else `create-admin`)
    bootstrap_admin_username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    bootstrap_admin_password: SecretStr | None = Field(default=None, min_length=12)

    # how share links and QR codes address this service from a phone (default: the request's)
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s?#]+$")

    storage_dir: Path = Path("./var/evidence")
    clip_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    snapshot_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    photo_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    preview_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    retention_days: int = Field(default=30, ge=1)
    storage_quota_bytes: int = Field(default=50 * 1024**3, ge=1024 * 1024)
    retention_interval_s: float = Field(default=3600.0, gt=0)

    # the local day of statistics and the parents' "today" (the canteens' time zone)
    timezone: str = "Asia/Shanghai"

    # rectification deadlines per severity tier, and the escalation of overdue tier-1 cases
    deadline_tier1_h: float = Field(default=24.0, gt=0)
    deadline_tier2_h: float = Field(default=72.0, gt=0)
    deadline_tier3_h: float = Field(default=168.0, gt=0)
    escalation_yellow_after_days: float = Field(default=5.0, gt=0)
    escalation_red_after_days: float = Field(default=10.0, gt=0)

    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=500, ge=1)
    live_queue_size: int = Field(default=256, ge=1)
    live_keepalive_s: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _values_agree(self) -> Self:
        if self.page_size_default > self.page_size_max:
            raise ValueError(
                f"page_size_default ({self.page_size_default}) exceeds "
                f"page_size_max ({self.page_size_max})"
            )
        if self.escalation_red_after_days <= self.escalation_yellow_after_days:
            raise ValueError("escalation_red_after_days must exceed escalation_yellow_after_days")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from err
        if (self.bootstrap_admin_username is None) != (self.bootstrap_admin_password is None):
            raise ValueError("bootstrap_admin_username and bootstrap_admin_password go together")
        return self

    def mqtt_options(self) -> MqttOptions:
        return MqttOptions(
            host=self.mqtt_host,
            port=self.mqtt_port,
            client_id=self.mqtt_client_id,
            username=self.mqtt_username,
            password=self.mqtt_password.get_secret_value() if self.mqtt_password else None,
            tls_ca_file=self.mqtt_tls_ca_file,
            keepalive_s=self.mqtt_keepalive_s,
            session_expiry_s=self.mqtt_session_expiry_s,
            reconnect_min_s=self.mqtt_reconnect_min_s,
            reconnect_max_s=max(self.mqtt_reconnect_min_s, self.mqtt_reconnect_max_s),
            shared_group=self.mqtt_shared_group,
            receive_maximum=self.mqtt_receive_maximum,
            batch_max=self.ingest_batch_max,
        )


def describe_settings_error(err: ValidationError) -> list[str]:
    """One line per problem, naming the environment variable and the reason."""
    lines = []
    for error in err.errors():
        name = ENV_PREFIX + "_".join(str(part) for part in error["loc"]).upper()
        lines.append(f"{name}: {error['msg']}")
    return lines
