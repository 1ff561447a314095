"""`python -m edge --config PATH`: the composition root of the edge worker."""

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from edge.config import EdgeConfig, LogLevel
from edge.config_file import check_config, load_config
from edge.errors import ConfigError, OutboxError, PublisherError
from edge.evidence.errors import EvidenceError
from edge.extras import Extras
from edge.http import MetricsHttpServer
from edge.kitchen.errors import KitchenConfigError
from edge.metrics import EdgeMetrics
from edge.outbox import SqliteOutbox
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


class _CannotStartError(Exception):
    """A part could not be built; the reason is logged already."""


@dataclass(frozen=True, slots=True)
class _Parts:
    worker: EdgeWorker
    publisher: MqttEventPublisher
    outbox: SqliteOutbox
    extras: Extras
    metrics_server: MetricsHttpServer | None


def _close_sources(sources: Mapping[str, FrameSource]) -> None:
    for source in sources.values():
        source.close()


def _build(config: EdgeConfig, config_path: Path) -> _Parts:
    """Every part of the edge, or _CannotStartError with what was built closed again."""
    from detector.errors import ModelError
    from detector.onnx import OnnxDetector
    from streams.errors import StreamError

    with contextlib.ExitStack() as undo:  # closes the parts built so far when a later one fails
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
            raise _CannotStartError from err
        try:
            outbox = SqliteOutbox(config.outbox.path)
        except OutboxError as err:
            logger.error("cannot open the outbox path=%s reason=%s", config.outbox.path, err)
            raise _CannotStartError from err
        undo.callback(outbox.close)
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
            raise _CannotStartError from err
        relay = _StateRelay()
        try:
            sources = _build_sources(config, relay)
        except (StreamError, ValueError) as err:
            logger.error("cannot open a camera source reason=%s", err)
            raise _CannotStartError from err
        undo.callback(_close_sources, sources)
        try:
            extras = Extras(config)
        except EvidenceError as err:
            logger.error("cannot open the evidence store reason=%s", err)
            raise _CannotStartError from err
        undo.callback(extras.close)
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
            raise _CannotStartError from err
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
                raise _CannotStartError from err
        undo.pop_all()  # every part is built: run_edge owns them now
    return _Parts(worker, publisher, outbox, extras, metrics_server)


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
    try:
        parts = _build(config, config_path)
    except _CannotStartError:
        return EXIT_START_FAILED
    stop_event = stop or threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    restore_signals = _install_signal_handlers(stop_event) if in_main_thread else None
    parts.publisher.start()
    parts.extras.start()
    if parts.metrics_server is not None:
        parts.metrics_server.start()
    try:
        parts.worker.run_until(stop_event)  # closes the sources
    finally:
        if parts.metrics_server is not None:
            parts.metrics_server.close()
        parts.extras.close()
        parts.publisher.close()
        parts.outbox.close()
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
