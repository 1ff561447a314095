"""The kitchen, evidence, upload and preview sections of the edge config."""

from pathlib import Path

import pytest
import yaml

from edge.config import EdgeConfig
from edge.config_file import load_config
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


def test_motion_regions_and_detector_default_to_the_production_setting(tmp_path: Path) -> None:
    config = _load(tmp_path)
    assert config.motion.enabled
    assert config.regions.enabled
    assert config.detector.workers == 2
    assert config.detector.threads_per_worker(config.model.threads) == 1


def test_motion_regions_and_detector_sections_are_read(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        motion={"enabled": False, "keepalive_s": 4},
        regions={"max_regions": 2},
        detector={"workers": 1},
    )
    assert (config.motion.enabled, config.motion.keepalive_s) == (False, 4.0)
    assert config.regions.max_regions == 2
    assert config.detector.threads_per_worker(config.model.threads) == 2


@pytest.mark.parametrize(
    ("section", "value", "problem"),
    [
        ("motion", {"treshold": 10}, "motion.treshold: unknown key"),
        ("regions", {"max_regions": 0}, "regions.max_regions: "),
        ("detector", {"workers": 0}, "detector.workers: "),
    ],
)
def test_a_bad_key_in_the_throughput_sections_is_named(
    tmp_path: Path, section: str, value: object, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, **{section: value})
    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems


def test_a_camera_with_a_sub_stream_is_read_through_it(tmp_path: Path) -> None:
    cameras = [
        {
            "id": "cam-1",
            "url": "rtsp://u:p@10.0.0.2/main",
            "sub_stream_url": "rtsp://u:p@10.0.0.2/sub",
        },
        {"id": "cam-2", "url": "rtsp://u:p@10.0.0.3/main", "sub_stream_url": "clips/sub.mp4"},
        {"id": "cam-3", "url": "rtsp://u:p@10.0.0.4/main"},
    ]
    config = _load(tmp_path, cameras=cameras)
    assert [(c.read_url, c.is_rtsp) for c in config.cameras] == [
        ("rtsp://u:p@10.0.0.2/sub", True),
        ("clips/sub.mp4", False),
        ("rtsp://u:p@10.0.0.4/main", True),
    ]


def test_a_sub_stream_with_another_scheme_names_the_key_not_the_url(tmp_path: Path) -> None:
    cameras = [{"id": "cam-1", "url": "rtsp://10.0.0.2/main", "sub_stream_url": "http://u:pw@x/s"}]
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, cameras=cameras)
    assert raised.value.problems == [
        "cameras.0.sub_stream_url: must be an rtsp:// or rtsps:// URL or a video file path"
    ]


def test_check_config_names_a_missing_sub_stream_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge.config_file import check_config

    model = tmp_path / "model.onnx"
    model.write_bytes(b"not checked here")
    path = tmp_path / "edge.yaml"
    cameras = [{"id": "cam-1", "url": "rtsp://10.0.0.2/main", "sub_stream_url": "clips/sub.mp4"}]
    path.write_text(yaml.safe_dump(BASE | {"cameras": cameras, "model": {"path": str(model)}}))

    assert check_config(path, env={}) == 1
    assert "cameras.0.sub_stream_url: no such video file clips/sub.mp4" in capsys.readouterr().err
