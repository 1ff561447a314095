"""Edge config: every problem named by its key path, YAML errors with a line, env secrets."""

from pathlib import Path

import pytest

from contracts import ViolationKind
from edge.config import EdgeConfig
from edge.config_file import check_config, load_config
from edge.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "edge.example.yaml"

VALID = """\
site: site-1
edge: edge-1
cameras:
  - id: cam1
    url: rtsp://admin:${CAM_PASSWORD}@10.0.0.5:554/stream1
  - id: cam2
    url: clips/kitchen.mp4
    detect_fps: 2
    enabled: false
model:
  path: models/marker/model.onnx
rules:
  - id: rat-in-store
    kind: rodent
    label: rat
    cameras: [cam1]
    zone:
      id: store
      polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]
  - id: marker
    kind: uncovered_food
    label: red_marker
    cameras: all
mqtt:
  host: broker.local
  username: edge-1
  password: ${MQTT_PASSWORD}
outbox:
  path: /var/lib/brightkitchen/outbox.sqlite
"""
ENV = {"CAM_PASSWORD": "cam-s3cret", "MQTT_PASSWORD": "mqtt-s3cret"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge.yaml"
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env=ENV if env is None else env)
    return caught.value.problems


def test_valid_config_loads_with_defaults_and_env_substituted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID), env=ENV)

    assert isinstance(config, EdgeConfig)
    assert config.cameras[0].url == "rtsp://admin:cam-s3cret@10.0.0.5:554/stream1"
    assert config.cameras[0].detect_fps == 5.0
    assert config.cameras[0].stall_timeout_s == 5.0
    assert [camera.id for camera in config.enabled_cameras] == ["cam1"]
    assert config.mqtt.password is not None
    assert config.mqtt.password.get_secret_value() == "mqtt-s3cret"
    assert "mqtt-s3cret" not in repr(config)
    assert config.mqtt.port == 1883
    assert config.mqtt_client_id == "bk-site-1-edge-1"
    rodent, marker = config.rules
    assert rodent.kind is ViolationKind.RODENT
    assert rodent.severity == 1  # the kind's default tier
    assert rodent.min_duration_s == 3.0
    assert rodent.cooldown_s == 30.0
    assert rodent.min_confidence == 0.5
    assert rodent.cameras == ("cam1",)
    assert marker.cameras is None
    assert marker.zone is None
    assert marker.watches("cam2")
    assert not rodent.watches("cam2")
    assert config.model.confidence == 0.25
    assert config.status_interval_s == 30.0


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    detect_fps: 2",
            "    detect_fps: 0",
            "cameras.1.detect_fps: Input should be greater than 0",
        ),
        (
            "    detect_fps: 2",
            "    detect_fps: 31",
            "cameras.1.detect_fps: Input should be less than or equal to 30",
        ),
        ("    cameras: [cam1]", "    cameras: [cam9]", "rules.0.cameras: unknown camera 'cam9'"),
        (
            "  - id: cam2",
            "  - id: cam1",
            "cameras.1.id: duplicate camera id 'cam1' (also cameras.0.id)",
        ),
        (
            "  - id: marker",
            "  - id: rat-in-store",
            "rules.1.id: duplicate rule id 'rat-in-store' (also rules.0.id)",
        ),
        ("site: site-1", "site: site/1", "site: must be 1 to 64 letters, digits, '-' or '_'"),
        ("    kind: rodent", "    kind: mouse", "rules.0.kind: Input should be 'no_hat'"),
        ("    kind: rodent", "    kind: [rodent]", "rules.0.kind: Input should be 'no_hat'"),
        ("    cameras: [cam1]", "    cameras: [{id: cam1}]", "rules.0.cameras.0: Input should be"),
        ("cameras:\n  - id: cam1", "cameras:\n  - id: [cam1]", "cameras.0.id: Input should be"),
        (
            "    label: rat",
            "    label: rat\n    severity: 4",
            "rules.0.severity: Input should be less than or equal to 3",
        ),
        ("    label: rat", "    label: rat\n    colour: red", "rules.0.colour: unknown key"),
        (
            "  host: broker.local",
            "  host: broker.local\n  port: 70000",
            "mqtt.port: Input should be less than or equal to 65535",
        ),
        ("outbox:\n  path: /var/lib/brightkitchen/outbox.sqlite\n", "", "outbox: required"),
        (
            "    url: clips/kitchen.mp4",
            "    url: http://cam/stream",
            "cameras.1.url: must be an rtsp:// or rtsps:// URL or a video file path",
        ),
        (
            "[0.9, 0.9], [0.1, 0.9]",
            "[0.1, 0.9], [0.9, 0.9]",
            "rules.0.zone.polygon: the polygon crosses itself",
        ),
        (
            "[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]",
            "[[0.1, 0.1], [0.9, 0.1]]",
            "rules.0.zone.polygon: Tuple should have at least 3 items",
        ),
        (
            "[0.9, 0.9], [0.1, 0.9]",
            "[1.5, 0.9], [0.1, 0.9]",
            "rules.0.zone.polygon.2.0: Input should be less than or equal to 1",
        ),
        (
            "[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]",
            "[[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]",
            "rules.0.zone.polygon: the polygon has no area",
        ),
        ("  username: edge-1\n", "", "mqtt: a password needs a username"),
        (
            "  host: broker.local",
            "  host: broker.local\n  tls: {cert_file: c.pem}",
            "mqtt.tls: cert_file and key_file go together",
        ),
        (
            "edge: edge-1\n",
            "edge: edge-1\nlog_level: chatty\n",
            "log_level: Input should be 'DEBUG'",
        ),
    ],
)
def test_each_problem_names_its_key_path(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in VALID
    problems = problems_of(tmp_path, VALID.replace(old, new, 1))

    assert any(problem.startswith(expected) for problem in problems), problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        VALID.replace("    detect_fps: 2", "    detect_fps: -1")
        .replace("    cameras: [cam1]", "    cameras: [cam1, cam9]")
        .replace("  host: broker.local", "  host: broker.local\n  port: 0")
    )
    problems = problems_of(tmp_path, text)

    assert sorted(problems) == sorted(
        [
            "cameras.1.detect_fps: Input should be greater than 0",
            "mqtt.port: Input should be greater than or equal to 1",
            "rules.0.cameras: unknown camera 'cam9'",
        ]
    )


def test_yaml_syntax_error_names_the_line_and_not_the_content(tmp_path: Path) -> None:
    text = VALID.replace("  password: ${MQTT_PASSWORD}", '  password: "hunter2-secret')
    problems = problems_of(tmp_path, text)

    assert len(problems) == 1
    assert problems[0].startswith("yaml: line ")
    assert "hunter2" not in problems[0]


def test_yaml_duplicate_key_is_an_error_with_its_line(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, VALID.replace("edge: edge-1\n", "edge: edge-1\nsite: x\n"))

    assert problems == ["yaml: line 3, column 1: duplicate key 'site'"]


def test_a_missing_file_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_config(tmp_path / "nope.yaml", env=ENV) == 1
    assert "(file): cannot read" in capsys.readouterr().err


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "- just\n- a list\n") == [
        "(top level): expected a mapping of keys (site, edge, ...)"
    ]


def test_unknown_environment_variable_is_named_with_its_key(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, VALID, env={"CAM_PASSWORD": "x"})

    assert problems == ["mqtt.password: environment variable MQTT_PASSWORD is not set"]


def test_escaped_dollar_brace_stays_literal(tmp_path: Path) -> None:
    text = VALID.replace("  password: ${MQTT_PASSWORD}", "  password: pa$${not_a_var}")
    config = load_config(write(tmp_path, text), env=ENV)

    assert config.mqtt.password is not None
    assert config.mqtt.password.get_secret_value() == "pa${not_a_var}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a wrong type for the password itself
        ("  password: ${MQTT_PASSWORD}", "  password: [${MQTT_PASSWORD}]"),
        # a bad scheme on a URL that carries a password
        ("    url: rtsp://admin:", "    url: http://admin:"),
        # an invalid camera url type next to the password
        ("  password: ${MQTT_PASSWORD}", "  password: {value: ${MQTT_PASSWORD}}"),
    ],
)
def test_problems_never_echo_secrets(
    tmp_path: Path, old: str, new: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace(old, new)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)

    assert check_config(path, env=ENV) == 1
    shown = str(caught.value) + "".join(caught.value.problems) + "".join(capsys.readouterr())
    assert caught.value.problems
    assert "mqtt-s3cret" not in shown
    assert "cam-s3cret" not in shown


def test_check_config_prints_every_problem_and_returns_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace("    detect_fps: 2", "    detect_fps: 0").replace(
        "    cameras: [cam1]", "    cameras: [cam9]"
    )

    assert check_config(write(tmp_path, text), env=ENV) == 1
    err = capsys.readouterr().err.splitlines()
    assert "cameras.1.detect_fps: Input should be greater than 0" in err
    assert "rules.0.cameras: unknown camera 'cam9'" in err


def test_check_config_reports_missing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace("    enabled: false\n", "").replace(
        "models/marker/model.onnx", str(tmp_path / "missing.onnx")
    )

    assert check_config(write(tmp_path, text), env=ENV) == 1
    err = capsys.readouterr().err
    assert f"model.path: no such file {tmp_path / 'missing.onnx'}" in err
    assert "cameras.1.url: no such video file clips/kitchen.mp4" in err


def test_check_config_ok_prints_a_summary_without_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not checked here")
    text = VALID.replace("models/marker/model.onnx", str(model))

    assert check_config(write(tmp_path, text), env=ENV) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ")
    assert "cameras=2 (1 enabled) rules=2" in out
    assert "s3cret" not in out


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(EXAMPLE, env={"CAM_PASSWORD": "x", "EDGE_MQTT_PASSWORD": "y"})

    assert len(config.cameras) == 2
    assert config.cameras[0].read_url.endswith("/Channels/102")  # its sub-stream
    assert config.motion.enabled
    assert config.detector.workers == 2
    assert config.rules
    assert config.mqtt.username is not None
    assert config.model.path == Path("models/marker/model.onnx")
