"""The composition root: fail fast with a clear reason, and a real `python -m edge` run."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from brightkitchen.services.mosquitto import MosquittoBroker
from brightkitchen.services.ports import free_port
from contracts import EdgeState, decode_status, decode_violation, status_topic, violation_topic
from edge.__main__ import _StateRelay, main, run_edge
from edge.evidence.items import EvidenceKind
from edge.evidence.store import EvidenceStore
from streams.frame import SourceState
from tests.conftest import EDGE, SITE, BrokerUsers
from tests.fixtures.edge import MqttRecorder, wait_until

REPO = Path(__file__).resolve().parents[2]
MARKER_MODEL = REPO / "models" / "marker" / "model.onnx"
MAIN_STREAM_PASSWORD = "main-stream-secret"


def edge_yaml(
    tmp_path: Path,
    *,
    model: Path,
    camera_url: str,
    port: int = 1883,
    sub_stream_url: str | None = None,
    **extra: object,
) -> Path:
    camera: dict[str, object] = {"id": "cam-1", "url": camera_url, "detect_fps": 5}
    if sub_stream_url is not None:
        camera["sub_stream_url"] = sub_stream_url
    data: dict[str, object] = {
        "site": SITE,
        "edge": EDGE,
        "cameras": [camera],
        "model": {"path": str(model), "threads": 1},
        "rules": [
            {
                "id": "marker",
                "kind": "uncovered_food",
                "label": "red_marker",
                "min_duration_s": 1,
                "cooldown_s": 600,
                "severity": 2,
            }
        ],
        "mqtt": {
            "host": "127.0.0.1",
            "port": port,
            "username": EDGE,
            "password": "${BK_TEST_EDGE_PASSWORD}",
        },
        "outbox": {"path": str(tmp_path / "outbox.sqlite")},
        "status_interval_s": 1,
    }
    data.update(extra)
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_an_invalid_config_exits_2_and_logs_each_problem(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = edge_yaml(tmp_path, model=MARKER_MODEL, camera_url="clip.mp4", status_interval_s=0)

    assert run_edge(path, configure_logging=False) == 2
    assert "status_interval_s: Input should be greater than 0" in caplog.text
    assert "mqtt.password: environment variable BK_TEST_EDGE_PASSWORD is not set" in caplog.text


def test_a_bad_model_exits_2_naming_the_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BK_TEST_EDGE_PASSWORD", "x")
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"this is not an onnx model")
    path = edge_yaml(tmp_path, model=model, camera_url="clip.mp4")

    assert run_edge(path, configure_logging=False) == 2
    assert f"cannot load the model path={model}" in caplog.text


def test_a_missing_video_file_exits_2(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BK_TEST_EDGE_PASSWORD", "x")
    path = edge_yaml(tmp_path, model=MARKER_MODEL, camera_url=str(tmp_path / "missing.mp4"))

    assert run_edge(path, configure_logging=False) == 2
    assert "cannot open a camera source" in caplog.text


def test_check_config_flag_validates_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edge_yaml(tmp_path, model=tmp_path / "none.onnx", camera_url="rtsp://cam/1")

    assert main(["--config", str(path), "--check-config"]) == 1
    err = capsys.readouterr().err
    assert "mqtt.password: environment variable BK_TEST_EDGE_PASSWORD is not set" in err


def test_state_relay_holds_early_changes_until_bound() -> None:
    relay = _StateRelay()
    seen: list[tuple[str, SourceState]] = []
    relay("cam-1", SourceState.OFFLINE)

    relay.bind(lambda camera_id, state: seen.append((camera_id, state)))
    relay("cam-1", SourceState.ONLINE)

    assert seen == [("cam-1", SourceState.OFFLINE), ("cam-1", SourceState.ONLINE)]


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_python_m_edge_detects_publishes_and_stops_on_sigint(
    tmp_path: Path, mosquitto: MosquittoBroker, broker_users: BrokerUsers
) -> None:
    from scenes.marker_video import write_marker_video

    video = tmp_path / "marker.mp4"
    write_marker_video(video, duration_s=8.0, fps=10, marker_intervals_s=((1.0, 7.0),), seed=3)
    evidence_dir = tmp_path / "evidence"
    metrics_port = free_port()
    # the main stream is never opened when the camera has a sub-stream: only the file is read
    config = edge_yaml(
        tmp_path,
        model=MARKER_MODEL,
        camera_url=f"rtsp://viewer:{MAIN_STREAM_PASSWORD}@192.0.2.1:554/main",
        sub_stream_url=str(video),
        port=mosquitto.port,
        detector={"workers": 2},
        evidence={"directory": str(evidence_dir), "pre_s": 1, "post_s": 1, "post_grace_s": 1},
        metrics={"listen": f"127.0.0.1:{metrics_port}"},
    )
    recorder = MqttRecorder(
        mosquitto.host,
        mosquitto.port,
        broker_users.tester.username,
        broker_users.tester.password,
        "brightkitchen/v1/#",
        client_id="main-test-recorder",
    )
    log_path = tmp_path / "edge.log"
    try:
        wait_until(recorder.subscribed.is_set, 10, what="the recorder to subscribe")
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "edge", "--config", str(config)],
                cwd=REPO,
                env=os.environ | {"BK_TEST_EDGE_PASSWORD": broker_users.edge.password},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(
                lambda: (
                    bool(recorder.received(violation_topic(SITE, EDGE)))
                    or process.poll() is not None
                ),
                60,
                what="a violation from the edge process",
            )
            assert process.poll() is None, log_path.read_text()
            scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
            assert scraped.status_code == 200
            assert 'brightkitchen_edge_evidence_total{outcome="snapshot"}' in scraped.text
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

        (first, *_) = recorder.received(violation_topic(SITE, EDGE))
        violation = decode_violation(first.payload)
        assert (violation.camera, violation.rule, violation.kind.value) == (
            "cam-1",
            "marker",
            "uncovered_food",
        )
        # the evidence section is live: the snapshot is filed under the published id
        assert violation.has_snapshot is True
        store = EvidenceStore(evidence_dir, quota_bytes=1 << 30)
        try:
            assert store.get(violation.violation_id, EvidenceKind.SNAPSHOT) is not None
        finally:
            store.close()
        wait_until(
            lambda: (
                decode_status(recorder.received(status_topic(SITE, EDGE))[-1].payload).state
                is EdgeState.OFFLINE
            ),
            10,
            what="the offline status",
        )
        statuses = [
            decode_status(item.payload) for item in recorder.received(status_topic(SITE, EDGE))
        ]
        assert any(
            "cam-1" in status.cameras and status.cameras["cam-1"].state.value == "online"
            for status in statuses
        )
        edge_log = log_path.read_text()
        assert f"violation created id={violation.violation_id}" in edge_log
        assert broker_users.edge.password not in edge_log
        assert "sub_stream=yes" in edge_log
        assert MAIN_STREAM_PASSWORD not in edge_log
        assert "192.0.2.1" not in edge_log  # the main stream was not opened, nor even logged
    finally:
        recorder.close()
