"""`python -m edge --config PATH`: the composition root of the edge worker."""

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from edge.config import EdgeConfig, LogLevel, check_config, load_config
from edge.errors import ConfigError, OutboxError, PublisherError
from edge.evidence.errors import EvidenceError
from edge.http import MetricsHttpServer
from edge.kitchen.errors import KitchenConfigError
from edge.metrics import CounterReading, EdgeMetrics
from edge.outbox import SqliteOutbox
from edge.pipeline import FrameHook, FrameOutcome, OutcomeHook
from edge.publisher import MqttEventPublisher
from edge.worker import EdgeWorker
from streams.frame import FrameSource, SourceState, StateListener
from streams.redact import redact_url

logger = logging.getLogger("edge")

EXIT_OK = 0
EXIT_START_FAILED = 2


class _StateRelay:
    """A StateListener for sources built before the worker: holds early changes until bound."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._target: StateListener | None = None
        self._early: list[tuple[str, SourceState]] = []

    def __call__(self, camera_id: str, state: SourceState) -> None:
        with self._lock:
            if self._target is None:
                self._early.append((camera_id, state))
                return
            target = self._target
        target(camera_id, state)

    def bind(self, target: StateListener) -> None:
        with self._lock:
            early, self._early = self._early, []
            self._target = target
        for camera_id, state in early:
            target(camera_id, state)


def _configure_logging(level: LogLevel) -> None:
    logging.basicConfig(
        level=level.value,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
        force=True,
    )


def _build_sources(config: EdgeConfig, relay: _StateRelay) -> dict[str, FrameSource]:
    from streams.file import FileFrameSource
    from streams.rtsp import RtspFrameSource

    sources: dict[str, FrameSource] = {}
    try:
        for camera in config.enabled_cameras:
            logger.info(
                "camera source camera=%s url=%s sub_stream=%s detect_fps=%.1f",
                camera.id,
                redact_url(camera.read_url),
                "yes" if camera.sub_stream_url else "no",
                camera.detect_fps,
            )
            if camera.is_rtsp:
                sources[camera.id] = RtspFrameSource(
                    camera.id,
                    camera.read_url,
                    stall_timeout_s=camera.stall_timeout_s,
                    on_state=relay,
                )
            else:
                sources[camera.id] = FileFrameSource(camera.id, Path(camera.read_url))
                relay(camera.id, SourceState.ONLINE)  # a file source has no states of its own
    except BaseException:
        for source in sources.values():
            source.close()
        raise
    return sources


class _Extras:
    """Evidence (store, recorder, uploader) and the preview, as far as the config asks for them."""

    def __init__(self, config: EdgeConfig) -> None:
        import httpx

        from edge.evidence.recorder import EvidenceRecorder
        from edge.evidence.store import EvidenceStore
        from edge.evidence.uploader import EvidenceUploader, build_api_client
        from edge.preview import PreviewPublisher

        # httpx logs every request at INFO: too chatty for previews sent every second
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.client: httpx.Client | None = None
        self.store: EvidenceStore | None = None
        self.recorder: EvidenceRecorder | None = None
        self.uploader: EvidenceUploader | None = None
        self.preview: PreviewPublisher | None = None
        self._camera_ids = [camera.id for camera in config.enabled_cameras]
        try:
            if config.upload is not None:
                self.client = build_api_client(config.upload)
            if config.evidence is not None:
                self.store = EvidenceStore(
                    config.evidence.directory, quota_bytes=config.evidence.quota_bytes
                )
                self.recorder = EvidenceRecorder(
                    config.evidence, self.store, [camera.id for camera in config.enabled_cameras]
                )
                if config.upload is not None:
                    self.uploader = EvidenceUploader.from_config(
                        self.store, config.upload, self.client
                    )
            if config.preview is not None and config.preview.enabled and self.client is not None:
                self.preview = PreviewPublisher(config.preview, self.client)
        except BaseException:
            self.close()
            raise

    @property
    def frame_hooks(self) -> list[FrameHook]:
        hooks: list[FrameHook] = []
        if self.recorder is not None:
            hooks.append(self.recorder.on_frame)
        if self.preview is not None:
            hooks.append(self.preview.on_frame)
        return hooks

    @property
    def outcome_hooks(self) -> list[OutcomeHook]:
        preview = self.preview
        if preview is None:
            return []

        def faces(outcome: FrameOutcome) -> None:
            preview.on_detections(outcome.frame, outcome.detections)

        return [faces]

    def upload_depth(self) -> int:
        return 0 if self.uploader is None else self.uploader.depth()

    def counter_readings(self) -> list[CounterReading]:
        """The recorder's, the uploader's and the preview's counters, for the metrics."""
        readings: list[CounterReading] = []
        if self.recorder is not None:
            recorded = self.recorder.counters()
            for outcome, value in (
                ("clip", recorded.clips),
                ("snapshot", recorded.snapshots),
                ("failed", recorded.failed),
                ("busy", recorded.busy),
            ):
                readings.append(
                    CounterReading(
                        "brightkitchen_edge_evidence_total",
                        "Evidence written (outcome=clip, snapshot), failed, or clips refused"
                        " while max_pending_clips were in progress (outcome=busy).",
                        {"outcome": outcome},
                        value,
                    )
                )
        if self.uploader is not None:
            uploaded = self.uploader.counters()
            for outcome, value in (
                ("uploaded", uploaded.uploaded),
                ("not_found", uploaded.not_found),
                ("parked", uploaded.parked),
                ("unavailable", uploaded.unavailable),
            ):
                readings.append(
                    CounterReading(
                        "brightkitchen_edge_uploads_total",
                        "Evidence upload attempts by outcome.",
                        {"outcome": outcome},
                        value,
                    )
                )
        if self.preview is not None:
            for camera_id in self._camera_ids:
                sent = self.preview.counters(camera_id)
                for outcome, value in (
                    ("sent", sent.sent),
                    ("dropped", sent.dropped),
                    ("failed", sent.failed),
                ):
                    readings.append(
                        CounterReading(
                            "brightkitchen_edge_previews_total",
                            "Preview frames by outcome.",
                            {"camera": camera_id, "outcome": outcome},
                            value,
                        )
                    )
        return readings

    def start(self) -> None:
        for part in (self.recorder, self.uploader, self.preview):
            if part is not None:
                part.start()

    def close(self) -> None:
        """In order: the preview, the recorder (writes what it holds), uploader, store, client."""
        for name, part in (
            ("preview", self.preview),
            ("recorder", self.recorder),
            ("uploader", self.uploader),
            ("store", self.store),
            ("client", self.client),
        ):
            if part is None:
                continue
            try:
                part.close()
            except Exception:
                logger.exception("closing failed part=%s", name)


def _install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("stop requested signal=%s", signal.Signals(signum).name)
        stop.set()

    previous = {
        signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)
    }

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def run_edge(
    config_path: Path, *, stop: threading.Event | None = None, configure_logging: bool = True
) -> int:
    """Run an edge worker until SIGINT/SIGTERM (or `stop`); 2 when it cannot start.

    Signal handlers are installed only when called from the main thread.
    """
    if configure_logging:
        _configure_logging(LogLevel.INFO)
    try:
        config = load_config(config_path)
    except ConfigError as err:
        for problem in err.problems:
            logger.error("config problem path=%s %s", config_path, problem)
        return EXIT_START_FAILED
    if configure_logging:
        _configure_logging(config.log_level)
    # onnxruntime would send telemetry otherwise; set before it is first imported
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    from detector.errors import ModelError
    from detector.onnx import OnnxDetector
    from streams.errors import StreamError

    # the detector's instances side by side, splitting the model's threads (edge/scheduler.py)
    threads = config.detector.threads_per_worker(config.model.threads)
    try:
        detector, *spare_detectors = [
            OnnxDetector(
                config.model.path,
                confidence_threshold=config.model.confidence,
                iou_threshold=config.model.iou,
                num_threads=threads,
            )
            for _ in range(config.detector.workers)
        ]
    except ModelError as err:
        logger.error("cannot load the model path=%s reason=%s", config.model.path, err)
        return EXIT_START_FAILED
    try:
        outbox = SqliteOutbox(config.outbox.path)
    except OutboxError as err:
        logger.error("cannot open the outbox path=%s reason=%s", config.outbox.path, err)
        return EXIT_START_FAILED
    try:
        publisher = MqttEventPublisher(
            site=config.site,
            edge=config.edge,
            mqtt_config=config.mqtt,
            outbox=outbox,
            client_id=config.mqtt_client_id,
        )
    except PublisherError as err:
        logger.error("cannot set up MQTT reason=%s", err)
        outbox.close()
        return EXIT_START_FAILED

    relay = _StateRelay()
    try:
        sources = _build_sources(config, relay)
    except (StreamError, ValueError) as err:
        logger.error("cannot open a camera source reason=%s", err)
        outbox.close()
        return EXIT_START_FAILED

    try:
        extras = _Extras(config)
    except EvidenceError as err:
        logger.error("cannot open the evidence store reason=%s", err)
        for source in sources.values():
            source.close()
        outbox.close()
        return EXIT_START_FAILED
    try:
        worker = EdgeWorker(
            config,
            sources,
            detector,
            publisher,
            motion=config.motion if config.motion.enabled else None,
            regions=config.regions,
            spare_detectors=spare_detectors,
            frame_hooks=extras.frame_hooks,
            outcome_hooks=extras.outcome_hooks,
            recorder=extras.recorder,
        )
    except KitchenConfigError as err:
        for problem in err.problems:
            logger.error("config problem path=%s %s", config_path, problem)
        extras.close()
        for source in sources.values():
            source.close()
        outbox.close()
        return EXIT_START_FAILED
    relay.bind(worker.on_source_state)
    metrics_server = None
    if config.metrics is not None and config.metrics.enabled:
        metrics = EdgeMetrics(
            worker.camera_snapshots,
            site=config.site,
            edge=config.edge,
            outbox_depth=outbox.depth,
            upload_queue_depth=None if extras.uploader is None else extras.upload_depth,
            counters=extras.counter_readings,
        )
        try:
            metrics_server = MetricsHttpServer.from_config(config.metrics, metrics.render)
        except OSError as err:
            logger.error(
                "cannot listen for metrics listen=%s reason=%s", config.metrics.listen, err
            )
            extras.close()
            for source in sources.values():
                source.close()
            outbox.close()
            return EXIT_START_FAILED
    stop_event = stop or threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    restore_signals = _install_signal_handlers(stop_event) if in_main_thread else None
    publisher.start()
    extras.start()
    if metrics_server is not None:
        metrics_server.start()
    try:
        worker.run_until(stop_event)
    finally:
        if metrics_server is not None:
            metrics_server.close()
        extras.close()
        publisher.close()
        outbox.close()
        if restore_signals is not None:
            restore_signals()
    logger.info("edge stopped")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge", description="BrightKitchen edge worker")
    parser.add_argument("--config", type=Path, required=True, help="edge config YAML file")
    parser.add_argument(
        "--check-config", action="store_true", help="validate the config, print problems, exit"
    )
    args = parser.parse_args(argv)
    if args.check_config:
        return check_config(args.config)
    return run_edge(args.config)


if __name__ == "__main__":
    sys.exit(main())
