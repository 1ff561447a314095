"""Sub-streams: the detector reads the low-resolution stream when a camera names one."""

import pytest
from pydantic import ValidationError

from edge.substream import SubStreamFields, detection_url, is_rtsp

MAIN = "rtsp://user:pass@10.0.0.9:554/main"
SUB = "rtsp://user:pass@10.0.0.9:554/sub"


def test_the_detector_reads_the_sub_stream_when_there_is_one() -> None:
    assert detection_url(MAIN, SUB) == SUB
    assert detection_url(MAIN, None) == MAIN


@pytest.mark.parametrize("url", [SUB, "rtsps://cam/sub", "videos/sub.mp4"])
def test_a_sub_stream_is_an_rtsp_url_or_a_file(url: str) -> None:
    assert SubStreamFields(sub_stream_url=url).sub_stream_url == url


def test_other_schemes_are_refused_without_echoing_the_url() -> None:
    with pytest.raises(ValidationError, match="rtsp:// or rtsps://") as caught:
        SubStreamFields(sub_stream_url="http://user:secret@cam/sub")

    assert "secret" not in str(caught.value.errors(include_input=False))


def test_is_rtsp() -> None:
    assert is_rtsp(SUB)
    assert is_rtsp("RTSPS://cam/x")
    assert not is_rtsp("videos/sub.mp4")


def test_the_camera_config_has_the_fields_with_both_urls_checked() -> None:
    from edge.config import CameraConfig

    camera = CameraConfig.model_validate({"id": "cam-1", "url": MAIN, "sub_stream_url": SUB})
    assert camera.read_url == detection_url(camera.url, camera.sub_stream_url) == SUB
    with pytest.raises(ValidationError, match="sub_stream_url"):
        CameraConfig.model_validate(
            {"id": "cam-1", "url": MAIN, "sub_stream_url": "http://cam/sub"}
        )
    with pytest.raises(ValidationError, match="url"):
        CameraConfig.model_validate({"id": "cam-1", "url": "http://cam/main"})
