"""The evidence, upload and preview config sections: defaults, and errors that name the key."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.evidence.config import EvidenceConfig, PreviewConfig, PreviewFallback, UploadConfig
from edge.evidence.uploader import build_api_client


def test_evidence_defaults() -> None:
    config = EvidenceConfig(directory=Path("var/evidence"))
    assert (config.ring_s, config.ring_fps, config.ring_width_px) == (20.0, 10.0, 640)
    assert (config.pre_s, config.post_s) == (5.0, 10.0)
    assert config.clip_preset.value == "veryfast"
    assert config.quota_bytes == 2048 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "location", "reason"),
    [
        ({"pre_s": 30.0}, (), "pre_s (30) must not exceed ring_s (20)"),
        ({"clip_preset": "slow"}, ("clip_preset",), "Input should be"),
        ({"quota_mb": 0}, ("quota_mb",), "greater than 0"),
        ({"ring_fps": 60}, ("ring_fps",), "less than or equal to 30"),
        ({"colour": "red"}, ("colour",), "Extra inputs are not permitted"),
    ],
)
def test_evidence_errors_name_the_key(
    data: dict[str, object], location: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        EvidenceConfig.model_validate({"directory": "var/evidence", **data})
    (error,) = caught.value.errors()
    assert error["loc"] == location
    assert reason in error["msg"]


def test_upload_config_tidies_the_url_and_hides_the_token() -> None:
    config = UploadConfig.model_validate(
        {"base_url": "https://api.example.test:8443/", "token": "s3cret-token"}
    )
    assert config.base_url == "https://api.example.test:8443"
    assert "s3cret" not in repr(config)
    client = build_api_client(config)
    try:
        assert client.headers["Authorization"] == "Bearer s3cret-token"
        assert str(client.base_url) == "https://api.example.test:8443"
    finally:
        client.close()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"base_url": "ftp://api.example.test"}, "must be an http:// or https:// URL"),
        ({"base_url": "https://edge:pw@api.example.test"}, "must not hold credentials"),
        ({"token": "  "}, "must not be empty"),
        ({"retry_initial_s": 10.0, "retry_max_s": 5.0}, "must not exceed retry_max_s"),
    ],
)
def test_upload_config_errors(data: dict[str, object], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as caught:
        UploadConfig.model_validate({"base_url": "http://127.0.0.1:8000", "token": "t", **data})
    assert "pw@" not in str(caught.value.errors(include_input=False))


def test_preview_defaults_and_limits() -> None:
    config = PreviewConfig()
    assert (config.fps, config.width_px, config.fallback) == (1.0, 640, PreviewFallback.SKIN)
    with pytest.raises(ValidationError, match="greater than 0"):
        PreviewConfig(fps=0)
    with pytest.raises(ValidationError, match="Input should be"):
        PreviewConfig.model_validate({"fallback": "pixelate"})
