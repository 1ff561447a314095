"""ApiSettings: read from API_* variables, a required access token, secrets kept out of reprs."""

import pytest
from pydantic import ValidationError

from api.settings import ApiSettings, describe_settings_error


def test_settings_come_from_api_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_ACCESS_TOKEN", "a" * 32)
    monkeypatch.setenv("API_DATABASE_URL", "postgresql+psycopg://bk@db.example/bk")
    monkeypatch.setenv("API_MQTT_PORT", "8883")
    monkeypatch.setenv("API_MQTT_PASSWORD", "broker-secret")
    monkeypatch.setenv("API_INGEST_ENABLED", "false")
    settings = ApiSettings()
    assert settings.database_url == "postgresql+psycopg://bk@db.example/bk"
    assert settings.mqtt_port == 8883
    assert settings.ingest_enabled is False
    assert settings.access_token is not None
    assert settings.access_token.get_secret_value() == "a" * 32
    options = settings.mqtt_options()
    assert options.password == "broker-secret"
    for text in (repr(settings), str(settings), repr(options)):
        assert "broker-secret" not in text
        assert "a" * 32 not in text


def test_there_are_no_default_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "API_ACCESS_TOKEN",
        "API_BOOTSTRAP_ADMIN_USERNAME",
        "API_BOOTSTRAP_ADMIN_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = ApiSettings()
    assert settings.access_token is None  # the operator token is off unless set
    assert settings.bootstrap_admin_username is None
    assert settings.bootstrap_admin_password is None


def test_a_bootstrap_admin_needs_both_name_and_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_BOOTSTRAP_ADMIN_USERNAME", "root")
    monkeypatch.delenv("API_BOOTSTRAP_ADMIN_PASSWORD", raising=False)
    with pytest.raises(ValidationError, match="go together"):
        ApiSettings()


def test_an_unknown_timezone_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        ApiSettings()


def test_a_short_token_or_a_bad_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_ACCESS_TOKEN", "short")
    monkeypatch.setenv("API_MQTT_PORT", "70000")
    with pytest.raises(ValidationError) as caught:
        ApiSettings()
    lines = describe_settings_error(caught.value)
    assert [line.split(":")[0] for line in lines] == ["API_MQTT_PORT", "API_ACCESS_TOKEN"]
    assert "short" not in "\n".join(lines)


def test_a_default_page_larger_than_the_maximum_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_ACCESS_TOKEN", "a" * 32)
    monkeypatch.setenv("API_PAGE_SIZE_DEFAULT", "100")
    monkeypatch.setenv("API_PAGE_SIZE_MAX", "10")
    with pytest.raises(ValidationError, match="page_size_default \\(100\\) exceeds page_size_max"):
        ApiSettings()
