"""The kitchen, evidence, upload and preview sections of the edge config."""

from pathlib import Path

import pytest
import yaml

from edge.config import EdgeConfig, load_config
from edge.errors import ConfigError

KITCHEN_EXAMPLE = Path(__file__).parent / "kitchen" / "kitchen_example.yaml"

BASE = {
    "site": "site-1",
    "edge": "edge-1",
    "cameras": [
        {"id": camera, "url": f"rtsp://10.0.0.{n}/sub"}
        for n, camera in enumerate(("cam-prep", "cam-cold", "cam-store", "cam-door"), start=2)
    ],
    "model": {"path": "models/kitchen/model.onnx"},
    "mqtt": {"host": "broker"},
    "outbox": {"path": "outbox.sqlite"},
}


def _load(tmp_path: Path, **sections: object) -> EdgeConfig:
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(BASE | sections))
    return load_config(path, env={"EDGE_API_TOKEN": "t" * 32})


def test_the_kitchen_example_section_validates(tmp_path: Path) -> None:
    kitchen = yaml.safe_load(KITCHEN_EXAMPLE.read_text())["kitchen"]
    config = _load(tmp_path, kitchen=kitchen)
    assert config.kitchen is not None


def test_an_empty_kitchen_section_means_every_default_rule(tmp_path: Path) -> None:
    config = _load(tmp_path, kitchen={})
    assert config.kitchen is not None


def test_kitchen_cameras_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, kitchen={"cameras": {"cam-nowhere": {"area": "storage"}}})
    assert any(p.startswith("kitchen.cameras.cam-nowhere:") for p in raised.value.problems)


def test_evidence_upload_and_preview_validate(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        evidence={"directory": "var/evidence", "quota_mb": 512},
        upload={"base_url": "https://api.example.org", "token": "${EDGE_API_TOKEN}"},
        preview={"fps": 1, "width_px": 480},
    )
    assert config.upload is not None
    assert config.upload.token.get_secret_value() == "t" * 32


def test_preview_without_upload_is_an_error_and_names_no_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, preview={"fps": 1})
    assert any("preview needs an upload section" in p for p in raised.value.problems)
