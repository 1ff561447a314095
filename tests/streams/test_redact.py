"""Passwords never survive redact_url and redact_text; everything else does."""

import pytest

from streams.redact import redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "rtsp://admin:s3cret@10.0.0.5:554/Streaming/Channels/101",
            "rtsp://admin:***@10.0.0.5:554/Streaming/Channels/101",
        ),
        ("rtsp://admin:p%40ss%3Aw@cam.local/live", "rtsp://admin:***@cam.local/live"),
        ("rtsp://admin:p@ss@cam.local/live", "rtsp://admin:***@cam.local/live"),
        ("rtsp://:s3cret@cam.local/live", "rtsp://:***@cam.local/live"),
        ("rtsps://u:pw@h:99999/x", "rtsps://u:***@h:99999/x"),
        (
            "rtsp://cam.local/live?user=admin&password=s3cret&channel=1",
            "rtsp://cam.local/live?user=admin&password=***&channel=1",
        ),
        ("rtsp://admin@cam.local/live", "rtsp://admin@cam.local/live"),
        ("rtsp://cam.local:8554/cam1", "rtsp://cam.local:8554/cam1"),
        ("/videos/kitchen.mp4", "/videos/kitchen.mp4"),
    ],
)
def test_redact_url_masks_only_the_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_text_masks_urls_inside_messages() -> None:
    message = "Server returned 401 Unauthorized: 'rtsp://cam:wr0ng-pw@127.0.0.1:8554/cam1'"
    assert redact_text(message) == (
        "Server returned 401 Unauthorized: 'rtsp://cam:***@127.0.0.1:8554/cam1'"
    )


def test_redact_text_masks_a_known_password_wherever_it_appears() -> None:
    url = "rtsp://cam:p%40ssw0rd@127.0.0.1/cam1"
    text = "auth failed for user cam with password p@ssw0rd (p%40ssw0rd)"
    redacted = redact_text(text, url)
    assert "p@ssw0rd" not in redacted
    assert "p%40ssw0rd" not in redacted
    assert redacted == "auth failed for user cam with password *** (***)"


def test_redact_text_keeps_plain_text() -> None:
    text = "camera offline camera=cam1 reason=stream ended; mail ops@example.org"
    assert redact_text(text) == text
