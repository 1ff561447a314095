"""Edge metrics: latency histograms, frame rates and their Prometheus text exposition.

`GET /metrics` (edge/http.py) renders EdgeMetrics: per camera the frames read and detected
(counters and rates over the last `RATE_WINDOW_S`), skipped frames by reason (`sampling`: not due
at the camera's detect fps, by design; `busy`: due but lost because the edge could not keep up),
failed frames, violations, detector inferences, detector latency (a histogram of the time one
sampled frame spent in the detector, all its crops) and wait (the time it waited for its turn),
the camera state (one gauge per state, 1 for the current one); for the edge the outbox depth and
the evidence upload queue depth when hooks for them are given, and the counters of the
evidence recorder, the uploader and the preview (CounterReading) when a hook gives them. The
format is Prometheus' text format 0.0.4.
"""

import bisect
import ipaddress
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from contracts import CameraState

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RATE_WINDOW_S = 10.0
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LOOPBACK_NAMES = ("localhost",)


class MetricsConfig(BaseModel):
    """The edge's `GET /metrics` endpoint; `metrics:` in the edge config."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    listen: str = Field(default="127.0.0.1:9108", description="host:port ([v6]:port for IPv6)")
    bearer_token: SecretStr | None = Field(
        default=None, description="required unless listening on loopback"
    )

    @model_validator(mode="after")
    def _token_off_loopback(self) -> Self:
        host, _ = split_listen(self.listen)  # raises ValueError naming the problem
        if self.bearer_token is not None and len(self.bearer_token.get_secret_value()) < 16:
            raise ValueError("bearer_token: must be at least 16 characters")
        if self.enabled and not is_loopback(host) and self.bearer_token is None:
            raise ValueError("bearer_token: required when metrics listen on a non-loopback address")
        return self

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]


def split_listen(listen: str) -> tuple[str, int]:
    """'host:port' or '[v6]:port' -> (host, port); ValueError saying what is wrong."""
    host, separator, port_text = listen.rpartition(":")
    if not separator or not host:
        raise ValueError(f"listen: expected host:port, got {listen!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"listen: port must be a number 0..65535, got {port_text!r}")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: may resolve to anything


@dataclass(frozen=True, slots=True)
class HistogramSnapshot:
    upper_bounds_s: tuple[float, ...]  # without +Inf
    cumulative_counts: tuple[int, ...]  # per upper bound, then +Inf (== count)
    count: int
    sum_s: float


class Histogram:
    """A thread-safe histogram with fixed buckets, as Prometheus has them."""

    def __init__(self, upper_bounds_s: Sequence[float] = LATENCY_BUCKETS_S) -> None:
        bounds = tuple(float(bound) for bound in upper_bounds_s)
        if not bounds or list(bounds) != sorted(set(bounds)) or not all(map(math.isfinite, bounds)):
            raise ValueError(f"bucket bounds must be finite and increasing, got {bounds}")
        self._bounds = bounds
        self._counts = [0] * (len(bounds) + 1)
        self._sum_s = 0.0
        self._lock = threading.Lock()

    def observe(self, value_s: float) -> None:
        position = bisect.bisect_left(self._bounds, value_s)  # le: value <= bound
        with self._lock:
            self._counts[position] += 1
            self._sum_s += value_s

    def snapshot(self) -> HistogramSnapshot:
        with self._lock:
            counts = list(self._counts)
            sum_s = self._sum_s
        cumulative: list[int] = []
        running = 0
        for count in counts:
            running += count
            cumulative.append(running)
        return HistogramSnapshot(self._bounds, tuple(cumulative), running, sum_s)


class RateMeter:
    """Events per second over the last window_s, from event times on a monotonic clock."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self._window_s = window_s
        self._events: deque[tuple[float, int]] = deque()
        self._in_window = 0
        self._started_s: float | None = None
        self._lock = threading.Lock()

    def mark(self, now_s: float, count: int = 1) -> None:
        with self._lock:
            if self._started_s is None:
                self._started_s = now_s
            self._events.append((now_s, count))
            self._in_window += count
            self._expire(now_s)

    def rate(self, now_s: float) -> float:
        """Per second over the window (over the time since the first event, if shorter)."""
        with self._lock:
            if self._started_s is None:
                return 0.0
            self._expire(now_s)
            span_s = min(self._window_s, now_s - self._started_s)
            return self._in_window / span_s if span_s > 0 else 0.0

    def _expire(self, now_s: float) -> None:
        horizon = now_s - self._window_s
        while self._events and self._events[0][0] <= horizon:
            self._in_window -= self._events.popleft()[1]


@dataclass(frozen=True, slots=True)
class CameraSnapshot:
    """What the metrics show of one camera at one moment."""

    camera_id: str
    state: str  # a CameraState value
    frames_read: int  # decoded by the source (taken by the pipeline or not)
    frames_detected: int  # sampled frames the detector ran on
    frames_processed: int  # sampled frames the rules evaluated (detected or carried over)
    skipped_sampling: int  # not due at the detect fps
    skipped_busy: int  # due, but lost because the edge could not keep up
    failed: int
    violations: int
    inferences: int  # detector runs (one per crop)
    read_fps: float
    detect_fps: float
    detector_latency: HistogramSnapshot
    detector_wait: HistogramSnapshot  # time a frame waited for the shared detector


Gauge = Callable[[], float]


@dataclass(frozen=True, slots=True)
class CounterReading:
    """One sample of a counter from a part outside the worker (evidence, uploads, preview)."""

    name: str  # e.g. brightkitchen_edge_evidence_clips_total
    help_text: str
    labels: Mapping[str, str]
    value: float


Counters = Callable[[], Sequence[CounterReading]]


class EdgeMetrics:
    """Renders the edge's metrics from the worker and optional depth hooks, at each scrape."""

    def __init__(
        self,
        cameras: Callable[[], Sequence[CameraSnapshot]],
        *,
        site: str,
        edge: str,
        outbox_depth: Gauge | None = None,
        upload_queue_depth: Gauge | None = None,
        counters: Counters | None = None,
    ) -> None:
        self._cameras = cameras
        self._counters = counters
        self._site = site
        self._edge = edge
        self._gauges: dict[str, tuple[str, Gauge]] = {}
        if outbox_depth is not None:
            self._gauges["brightkitchen_edge_outbox_depth"] = (
                "Messages in the on-disk outbox not yet acknowledged by the broker.",
                outbox_depth,
            )
        if upload_queue_depth is not None:
            self._gauges["brightkitchen_edge_upload_queue_depth"] = (
                "Evidence files (clips, snapshots) waiting to be acknowledged by the API.",
                upload_queue_depth,
            )

    def render(self) -> str:
        cameras = sorted(self._cameras(), key=lambda camera: camera.camera_id)
        out = Exposition()
        out.family("brightkitchen_edge_info", "gauge", "The edge's identity.")
        out.sample("brightkitchen_edge_info", {"site": self._site, "edge": self._edge}, 1)
        per_camera: tuple[tuple[str, str, str, Callable[[CameraSnapshot], float]], ...] = (
            (
                "brightkitchen_edge_camera_read_fps",
                "gauge",
                f"Frames per second decoded from the camera, over the last {RATE_WINDOW_S:g} s.",
                lambda c: c.read_fps,
            ),
            (
                "brightkitchen_edge_camera_detect_fps",
                "gauge",
                f"Frames per second the detector ran on, over the last {RATE_WINDOW_S:g} s.",
                lambda c: c.detect_fps,
            ),
            (
                "brightkitchen_edge_frames_read_total",
                "counter",
                "Frames decoded from the camera.",
                lambda c: c.frames_read,
            ),
            (
                "brightkitchen_edge_frames_detected_total",
                "counter",
                "Sampled frames the detector ran on.",
                lambda c: c.frames_detected,
            ),
            (
                "brightkitchen_edge_frames_processed_total",
                "counter",
                "Sampled frames the rules evaluated.",
                lambda c: c.frames_processed,
            ),
            (
                "brightkitchen_edge_frames_failed_total",
                "counter",
                "Sampled frames whose detection or rules raised.",
                lambda c: c.failed,
            ),
            (
                "brightkitchen_edge_violations_total",
                "counter",
                "Violations the rules raised.",
                lambda c: c.violations,
            ),
            (
                "brightkitchen_edge_detector_inferences_total",
                "counter",
                "Detector runs (one per crop of a frame).",
                lambda c: c.inferences,
            ),
        )
        for name, kind, help_text, value in per_camera:
            out.family(name, kind, help_text)
            for camera in cameras:
                out.sample(name, {"camera": camera.camera_id}, value(camera))
        name = "brightkitchen_edge_frames_skipped_total"
        out.family(
            name,
            "counter",
            "Frames not detected: reason=sampling (not due at the detect fps), "
            "reason=busy (due, but the edge could not keep up).",
        )
        for camera in cameras:
            out.sample(
                name, {"camera": camera.camera_id, "reason": "sampling"}, camera.skipped_sampling
            )
            out.sample(name, {"camera": camera.camera_id, "reason": "busy"}, camera.skipped_busy)
        name = "brightkitchen_edge_detector_latency_seconds"
        out.family(name, "histogram", "Time a sampled frame spent in the detector (all its crops).")
        for camera in cameras:
            out.histogram(name, {"camera": camera.camera_id}, camera.detector_latency)
        name = "brightkitchen_edge_detector_wait_seconds"
        out.family(name, "histogram", "Time a sampled frame waited for the shared detector.")
        for camera in cameras:
            out.histogram(name, {"camera": camera.camera_id}, camera.detector_wait)
        name = "brightkitchen_edge_camera_state"
        out.family(name, "gauge", "The camera's state: 1 for the current one, 0 for the others.")
        for camera in cameras:
            states = [state.value for state in CameraState]
            if camera.state not in states:
                states.append(camera.state)
            for state in states:
                out.sample(
                    name, {"camera": camera.camera_id, "state": state}, int(state == camera.state)
                )
        for name, (help_text, gauge) in self._gauges.items():
            try:
                reading = float(gauge())
            except Exception:  # a hook's failure must not break the scrape
                logger.exception("metrics gauge failed metric=%s", name)
                continue
            out.family(name, "gauge", help_text)
            out.sample(name, {}, reading)
        self._render_counters(out)
        return out.text()

    def _render_counters(self, out: "Exposition") -> None:
        if self._counters is None:
            return
        try:
            readings = sorted(self._counters(), key=lambda reading: reading.name)
        except Exception:  # a hook's failure must not break the scrape
            logger.exception("metrics counters failed")
            return
        seen: set[str] = set()
        for reading in readings:
            if reading.name not in seen:
                seen.add(reading.name)
                out.family(reading.name, "counter", reading.help_text)
            out.sample(reading.name, reading.labels, reading.value)


class Exposition:
    """Builds Prometheus text format 0.0.4."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        escaped = help_text.replace("\\", "\\\\").replace("\n", "\\n")
        self._lines.append(f"# HELP {name} {escaped}")
        self._lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, labels: Mapping[str, str], value: float) -> None:
        self._lines.append(f"{name}{_labels(labels.items())} {_number(value)}")

    def histogram(self, name: str, labels: Mapping[str, str], snapshot: HistogramSnapshot) -> None:
        bounds = [*(_number(bound) for bound in snapshot.upper_bounds_s), "+Inf"]
        for bound, count in zip(bounds, snapshot.cumulative_counts, strict=True):
            self.sample(f"{name}_bucket", {**labels, "le": bound}, count)
        self.sample(f"{name}_sum", labels, snapshot.sum_s)
        self.sample(f"{name}_count", labels, snapshot.count)

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _labels(labels: Iterable[tuple[str, str]]) -> str:
    pairs = [f'{key}="{_escape_label(value)}"' for key, value in labels]
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int) or (math.isfinite(value) and float(value).is_integer()):
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
