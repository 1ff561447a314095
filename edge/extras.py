"""Extras: the evidence (store, recorder, uploader) and the preview, as far as the config asks.

Built by the composition root (edge/__main__.py); the worker gets their frame and outcome hooks,
the metrics their counters.
"""

import logging

from edge.config import EdgeConfig
from edge.metrics import CounterReading
from edge.pipeline import FrameHook, FrameOutcome, OutcomeHook

logger = logging.getLogger("edge")


class Extras:
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
            readings += _by_outcome(
                "brightkitchen_edge_evidence_total",
                "Evidence written (outcome=clip, snapshot), failed, or clips refused"
                " while max_pending_clips were in progress (outcome=busy).",
                {},
                clip=recorded.clips,
                snapshot=recorded.snapshots,
                failed=recorded.failed,
                busy=recorded.busy,
            )
        if self.uploader is not None:
            uploaded = self.uploader.counters()
            readings += _by_outcome(
                "brightkitchen_edge_uploads_total",
                "Evidence upload attempts by outcome.",
                {},
                uploaded=uploaded.uploaded,
                not_found=uploaded.not_found,
                parked=uploaded.parked,
                unavailable=uploaded.unavailable,
            )
        if self.preview is not None:
            for camera_id in self._camera_ids:
                sent = self.preview.counters(camera_id)
                readings += _by_outcome(
                    "brightkitchen_edge_previews_total",
                    "Preview frames by outcome.",
                    {"camera": camera_id},
                    sent=sent.sent,
                    dropped=sent.dropped,
                    failed=sent.failed,
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


def _by_outcome(
    name: str, help_text: str, labels: dict[str, str], **outcomes: float
) -> list[CounterReading]:
    """One reading of counter `name` per outcome label."""
    return [
        CounterReading(name, help_text, {**labels, "outcome": outcome}, value)
        for outcome, value in outcomes.items()
    ]
