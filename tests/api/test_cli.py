"""`python -m api COMMAND`: the tools run on the configured database and report bad settings."""

import json
from pathlib import Path

import pytest

from api.__main__ import main


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("API_DATABASE_URL", f"sqlite:///{tmp_path / 'bk.db'}")
    monkeypatch.setenv("API_STORAGE_DIR", str(tmp_path / "evidence"))
    return tmp_path


def test_export_dataset_writes_an_empty_set_on_a_new_database(configured: Path) -> None:
    assert main(["export-dataset", "--out", str(configured / "set")]) == 0
    manifest = json.loads((configured / "set" / "manifest.json").read_text())
    assert manifest == {"classes": [], "items": []}


def test_retention_runs(configured: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="api.cli")
    assert main(["retention"]) == 0
    assert "retention done by_age=0 by_quota=0" in caplog.text


def test_mosquitto_config_needs_the_apis_broker_user(
    configured: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("API_MQTT_USERNAME", raising=False)
    assert main(["mosquitto-config", "--out", str(configured / "etc")]) == 2
    assert "API_MQTT_USERNAME and API_MQTT_PASSWORD" in caplog.text


def test_bad_settings_are_named(
    configured: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("API_RETENTION_DAYS", "0")
    assert main(["retention"]) == 2
    assert "API_RETENTION_DAYS" in caplog.text
