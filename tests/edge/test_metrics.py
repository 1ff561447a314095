"""Edge metrics: the Prometheus text format parses, figures are right, /metrics guards its token."""

import math
import re
import threading
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from contracts import CameraState
from detector.detections import Detections
from edge.config import EdgeConfig
from edge.http import MetricsHttpServer
from edge.metrics import (
    CONTENT_TYPE,
    CameraSnapshot,
    CounterReading,
    EdgeMetrics,
    Histogram,
    MetricsConfig,
    RateMeter,
)
from edge.worker import EdgeWorker
from streams.frame import SourceState
from tests.conftest import EDGE, SITE
from tests.fixtures.edge import (
    FakeFrameSource,
    InMemoryEventPublisher,
    StubDetector,
    frame_at,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE = re.compile(
    rf"^(?P<name>{_NAME})(?:\{{(?P<labels>{_LABEL}(?:,{_LABEL})*)?\}})?"
    r" (?P<value>[-+]?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|Inf|NaN))$"
)
_LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}

Sample = tuple[str, dict[str, str], float]


def parse(text: str) -> tuple[dict[str, str], list[Sample]]:
    """A strict reader of Prometheus text format 0.0.4: families' types and every sample."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    helped: set[str] = set()
    samples: list[Sample] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in helped, f"line {number}: HELP {name} twice"
            helped.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in _TYPES, f"line {number}: type {kind}"
            assert name not in types, f"line {number}: TYPE {name} twice"
            types[name] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, f"line {number} is not a sample: {line!r}"
            name = match["name"]
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in types or types.get(family) == "histogram", f"{name} has no TYPE"
            labels = dict(_LABEL_PAIR.findall(match["labels"] or ""))
            samples.append((name, labels, float(match["value"].replace("Inf", "inf"))))
    return types, samples


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [v for n, lab, v in samples if n == name and lab == labels]
    assert len(found) == 1, f"{name} {labels}: {found}"
    return found[0]


def snapshot(camera_id: str, **overrides: object) -> CameraSnapshot:
    histogram = Histogram((0.01, 0.1))
    for latency_s in (0.005, 0.02, 0.5):
        histogram.observe(latency_s)
    fields: dict[str, object] = {
        "camera_id": camera_id,
        "state": "online",
        "frames_read": 100,
        "frames_detected": 40,
        "frames_processed": 50,
        "skipped_sampling": 50,
        "skipped_busy": 3,
        "failed": 1,
        "violations": 2,
        "inferences": 44,
        "read_fps": 10.0,
        "detect_fps": 4.5,
        "detector_latency": histogram.snapshot(),
        "detector_wait": Histogram((0.01,)).snapshot(),
    }
    fields.update(overrides)
    return CameraSnapshot(**fields)  # type: ignore[arg-type]


def test_histogram_buckets_are_cumulative_and_le_is_inclusive() -> None:
    histogram = Histogram((0.1, 0.2))
    for latency_s in (0.05, 0.1, 0.15, 0.3):
        histogram.observe(latency_s)

    taken = histogram.snapshot()

    assert taken.cumulative_counts == (2, 3, 4)
    assert taken.count == 4
    assert taken.sum_s == pytest.approx(0.6)
    with pytest.raises(ValueError, match="increasing"):
        Histogram((0.2, 0.1))


def test_rate_meter_counts_the_last_window() -> None:
    meter = RateMeter(window_s=10.0)
    assert meter.rate(5.0) == 0.0
    for tick in range(100):  # 10 per second from t = 0 to 9.9
        meter.mark(tick / 10)

    assert meter.rate(9.9) == pytest.approx(100 / 9.9)
    assert meter.rate(15.0) == pytest.approx(49 / 10)  # only events after t = 5.0
    assert meter.rate(30.0) == 0.0


def test_the_text_format_parses_and_holds_every_figure() -> None:
    metrics = EdgeMetrics(
        lambda: [snapshot("cam-2"), snapshot("cam-1", state="offline", skipped_busy=0)],
        site=SITE,
        edge=EDGE,
        outbox_depth=lambda: 7,
        upload_queue_depth=lambda: 3,
    )

    types, samples = parse(metrics.render())

    assert types["brightkitchen_edge_detector_latency_seconds"] == "histogram"
    assert types["brightkitchen_edge_frames_skipped_total"] == "counter"
    assert value(samples, "brightkitchen_edge_info", site=SITE, edge=EDGE) == 1
    assert value(samples, "brightkitchen_edge_camera_read_fps", camera="cam-2") == 10.0
    assert value(samples, "brightkitchen_edge_camera_detect_fps", camera="cam-2") == 4.5
    assert value(samples, "brightkitchen_edge_frames_read_total", camera="cam-1") == 100
    assert value(samples, "brightkitchen_edge_frames_detected_total", camera="cam-1") == 40
    skipped = "brightkitchen_edge_frames_skipped_total"
    assert value(samples, skipped, camera="cam-2", reason="busy") == 3
    assert value(samples, skipped, camera="cam-1", reason="busy") == 0
    assert value(samples, skipped, camera="cam-1", reason="sampling") == 50
    latency = "brightkitchen_edge_detector_latency_seconds"
    assert [
        value(samples, f"{latency}_bucket", camera="cam-1", le=le) for le in ("0.01", "0.1", "+Inf")
    ] == [1, 2, 3]
    assert value(samples, f"{latency}_count", camera="cam-1") == 3
    assert value(samples, f"{latency}_sum", camera="cam-1") == pytest.approx(0.525)
    states = {state.value for state in CameraState}
    for camera, current in (("cam-1", "offline"), ("cam-2", "online")):
        for state in states:
            got = value(samples, "brightkitchen_edge_camera_state", camera=camera, state=state)
            assert got == (1 if state == current else 0)
    assert value(samples, "brightkitchen_edge_outbox_depth") == 7
    assert value(samples, "brightkitchen_edge_upload_queue_depth") == 3
    # cameras in a stable order
    cameras = [lab["camera"] for n, lab, _ in samples if n == "brightkitchen_edge_camera_read_fps"]
    assert cameras == ["cam-1", "cam-2"]


def test_label_values_are_escaped_and_odd_numbers_written_as_prometheus_does() -> None:
    metrics = EdgeMetrics(
        lambda: [snapshot("cam-1", read_fps=math.nan, detect_fps=2.0 / 3.0)],
        site='site "a"\\b',
        edge="edge\nx",
    )

    text = metrics.render()
    _, samples = parse(text)

    assert 'site="site \\"a\\"\\\\b"' in text
    assert 'edge="edge\\nx"' in text
    assert math.isnan(value(samples, "brightkitchen_edge_camera_read_fps", camera="cam-1"))
    assert value(samples, "brightkitchen_edge_camera_detect_fps", camera="cam-1") == pytest.approx(
        2.0 / 3.0
    )


def test_a_failing_depth_hook_leaves_out_only_its_metric(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> float:
        raise OSError("outbox gone")

    metrics = EdgeMetrics(lambda: [], site=SITE, edge=EDGE, outbox_depth=broken)

    types, _ = parse(metrics.render())

    assert "brightkitchen_edge_outbox_depth" not in types
    assert "brightkitchen_edge_info" in types
    assert "metrics gauge failed metric=brightkitchen_edge_outbox_depth" in caplog.text


def test_counters_from_the_evidence_parts_are_one_family_each() -> None:
    readings = [
        CounterReading("brightkitchen_edge_previews_total", "Previews.", {"camera": "cam-1"}, 4),
        CounterReading("brightkitchen_edge_evidence_total", "Evidence.", {"outcome": "clip"}, 2),
        CounterReading("brightkitchen_edge_previews_total", "Previews.", {"camera": "cam-2"}, 1),
    ]
    metrics = EdgeMetrics(lambda: [], site=SITE, edge=EDGE, counters=lambda: readings)

    types, samples = parse(metrics.render())

    assert types["brightkitchen_edge_previews_total"] == "counter"
    assert types["brightkitchen_edge_evidence_total"] == "counter"
    assert value(samples, "brightkitchen_edge_previews_total", camera="cam-1") == 4
    assert value(samples, "brightkitchen_edge_previews_total", camera="cam-2") == 1
    assert value(samples, "brightkitchen_edge_evidence_total", outcome="clip") == 2


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"listen": "0.0.0.0:9108"}, "bearer_token: required"),
        ({"listen": "10.0.0.5:9108"}, "bearer_token: required"),
        ({"listen": "edge-box.local:9108"}, "bearer_token: required"),
        ({"listen": "9108"}, "expected host:port"),
        ({"listen": "127.0.0.1:http"}, "port must be a number"),
        ({"listen": "127.0.0.1:70000"}, "port must be a number"),
        ({"listen": "0.0.0.0:9108", "bearer_token": "short"}, "at least 16"),
        ({"listn": "127.0.0.1:9108"}, "Extra inputs"),
    ],
)
def test_metrics_config_problems(settings: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        MetricsConfig.model_validate(settings)


def test_metrics_config_defaults_and_loopback() -> None:
    default = MetricsConfig()
    assert (default.host, default.port, default.bearer_token) == ("127.0.0.1", 9108, None)
    assert MetricsConfig(listen="[::1]:9200").host == "::1"
    assert MetricsConfig(listen="localhost:9200").port == 9200
    exposed = MetricsConfig(listen="0.0.0.0:9108", bearer_token="a-long-enough-token")
    assert exposed.host == "0.0.0.0"
    assert "a-long-enough-token" not in repr(exposed)


@pytest.fixture
def served() -> Iterator[MetricsHttpServer]:
    metrics = EdgeMetrics(lambda: [snapshot("cam-1")], site=SITE, edge=EDGE)
    with MetricsHttpServer(metrics.render, port=0) as server:
        yield server


def test_the_http_server_serves_metrics_on_loopback(served: MetricsHttpServer) -> None:
    response = httpx.get(f"http://127.0.0.1:{served.port}/metrics", timeout=10)

    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    _, samples = parse(response.text)
    assert value(samples, "brightkitchen_edge_frames_read_total", camera="cam-1") == 100
    assert httpx.get(f"http://127.0.0.1:{served.port}/other", timeout=10).status_code == 404


def test_the_http_server_requires_its_bearer_token_when_configured() -> None:
    token = "s3cret-token-for-metrics"
    config = MetricsConfig(listen="127.0.0.1:0", bearer_token=token)
    metrics = EdgeMetrics(lambda: [], site=SITE, edge=EDGE)
    with MetricsHttpServer.from_config(config, metrics.render) as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        missing = httpx.get(url, timeout=10)
        wrong = httpx.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
        right = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "brightkitchen_edge_info" in right.text


def test_a_render_error_is_a_500_and_the_server_keeps_serving() -> None:
    calls = iter([RuntimeError("boom"), None])

    def render() -> str:
        error = next(calls)
        if error is not None:
            raise error
        return "# HELP x y\n# TYPE x gauge\nx 1\n"

    with MetricsHttpServer(render, port=0) as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        assert httpx.get(url, timeout=10).status_code == 500
        assert httpx.get(url, timeout=10).text.endswith("x 1\n")


def test_a_running_worker_feeds_the_metrics() -> None:
    edge_config = EdgeConfig.model_validate(
        {
            "site": SITE,
            "edge": EDGE,
            "cameras": [{"id": "cam-1", "url": "one.mp4"}, {"id": "cam-2", "url": "two.mp4"}],
            "model": {"path": "model.onnx"},
            "mqtt": {"host": "localhost"},
            "outbox": {"path": "outbox.sqlite"},
            "status_interval_s": 60,
        }
    )
    sources = {camera.id: FakeFrameSource(camera.id) for camera in edge_config.cameras}
    detector = StubDetector(lambda _image: Detections.empty(("thing",)), ("thing",))
    worker = EdgeWorker(edge_config, sources, detector, InMemoryEventPublisher())
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_until, args=(stop,), daemon=True)
    thread.start()
    try:
        # 10 fps for 2 s, detected at 5 fps
        for index in range(21):
            sources["cam-1"].push(frame_at(index / 10, index=index, width=32, height=24))
        worker.on_source_state("cam-1", SourceState.ONLINE)
        wait_until(lambda: worker.counters("cam-1").frames == 21, what="the frames")

        _, samples = parse(EdgeMetrics(worker.camera_snapshots, site=SITE, edge=EDGE).render())
    finally:
        stop.set()
        thread.join(20)

    assert value(samples, "brightkitchen_edge_frames_read_total", camera="cam-1") == 21
    assert value(samples, "brightkitchen_edge_frames_detected_total", camera="cam-1") == 11
    skipped = "brightkitchen_edge_frames_skipped_total"
    assert value(samples, skipped, camera="cam-1", reason="sampling") == 10
    assert value(samples, skipped, camera="cam-1", reason="busy") == 0
    latency = "brightkitchen_edge_detector_latency_seconds_count"
    assert value(samples, latency, camera="cam-1") == 11
    wait = "brightkitchen_edge_detector_wait_seconds_count"
    assert value(samples, wait, camera="cam-1") == 11
    assert value(samples, "brightkitchen_edge_camera_state", camera="cam-1", state="online") == 1
    assert value(samples, "brightkitchen_edge_camera_state", camera="cam-2", state="starting") == 1
    assert value(samples, "brightkitchen_edge_frames_read_total", camera="cam-2") == 0
    assert value(samples, "brightkitchen_edge_camera_read_fps", camera="cam-1") > 0
    assert np.isfinite(value(samples, "brightkitchen_edge_camera_detect_fps", camera="cam-1"))
