"""config/edge.kitchen.example.yaml is a valid edge config with every section switched on."""

from pathlib import Path

from edge.config_file import load_config
from edge.kitchen.build import build_kitchen_rules
from tests.fixtures.edge import T0

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "edge.kitchen.example.yaml"
ENV = {
    "CAM_PASSWORD": "cam-secret",
    "EDGE_MQTT_PASSWORD": "mqtt-secret",
    "EDGE_API_TOKEN": "api-token",
}


def test_the_kitchen_example_loads_with_its_environment() -> None:
    config = load_config(EXAMPLE, env=ENV)

    assert [camera.id for camera in config.cameras] == [
        "cam-prep",
        "cam-cold",
        "cam-store",
        "cam-door",
    ]
    assert config.model.path == Path("models/kitchen/model.onnx")
    assert config.kitchen is not None
    assert config.evidence is not None
    assert config.upload is not None
    assert config.upload.token.get_secret_value() == "api-token"
    assert config.preview is not None
    assert config.preview.enabled
    assert config.metrics is not None
    engines = build_kitchen_rules(config.kitchen, config.enabled_cameras, started_at=T0)
    assert "hat" in engines["cam-prep"].rule_ids
    assert "food-counter" in engines["cam-cold"].rule_ids
