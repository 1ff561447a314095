"""EvidenceRecorder: rings for every camera, and a background thread that turns incidents into
a clip and a snapshot in the EvidenceStore.

The camera threads call on_frame() (cheap when the ring does not want the frame) and record()
when an incident starts; record() only registers a collector on the camera's ring and queues
the work, so it never blocks a camera. The worker draws the snapshot at once and writes the clip
when the collector has seen a frame at `post_s` after the incident, or post_s + post_grace_s of
wall time after record() (the camera went quiet): then the clip holds what arrived.
"""

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from edge.evidence.clip import encode_clip
from edge.evidence.config import EvidenceConfig
from edge.evidence.errors import EvidenceError, QuotaExceededError
from edge.evidence.items import EvidenceKind
from edge.evidence.ring import FrameRing, RingCollector
from edge.evidence.snapshot import render_snapshot
from edge.evidence.store import EvidenceStore
from edge.violation import Box
from streams.frame import Frame

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecorderCounters:
    clips: int = 0  # written to the store
    snapshots: int = 0
    failed: int = 0  # encoding or storing failed (quota refusals included)
    busy: int = 0  # clips refused: max_pending_clips were already collecting or encoding


@dataclass(slots=True)
class _Job:
    violation_id: UUID
    camera_id: str
    frame: Frame | None  # for the snapshot, dropped once it is written
    boxes: tuple[Box, ...]
    collector: RingCollector | None  # None: no clip (refused as busy)
    deadline_monotonic: float


class EvidenceRecorder:
    def __init__(
        self,
        config: EvidenceConfig,
        store: EvidenceStore,
        camera_ids: Iterable[str],
        *,
        join_timeout_s: float = 30.0,
    ) -> None:
        self._config = config
        self._store = store
        self._join_timeout_s = join_timeout_s
        self.rings = {
            camera_id: FrameRing(
                camera_id,
                seconds=config.ring_s,
                fps=config.ring_fps,
                max_width_px=config.ring_width_px,
                jpeg_quality=config.ring_jpeg_quality,
            )
            for camera_id in camera_ids
        }
        self._pre = timedelta(seconds=config.pre_s)
        self._post = timedelta(seconds=config.post_s)
        self._lock = threading.Lock()
        self._jobs: list[_Job] = []
        self._counters = RecorderCounters()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def on_frame(self, frame: Frame) -> None:
        """A frame hook: offer every frame a camera reads to its ring (kept at ring_fps)."""
        self.rings[frame.camera_id].append(frame)

    def record(self, violation_id: UUID, frame: Frame, boxes: Sequence[Box]) -> bool:
        """Queue a snapshot of `frame` and a clip around frame.captured_at; never blocks.

        Return False when the clip is refused because max_pending_clips are in progress (the
        snapshot is still made). `frame.image` must not be modified afterwards.
        """
        ring = self.rings[frame.camera_id]
        with self._lock:
            if self._stopping:
                raise RuntimeError("the evidence recorder is closed")
            clips_in_progress = sum(1 for job in self._jobs if job.collector is not None)
            collector = None
            if clips_in_progress < self._config.max_pending_clips:
                collector = ring.collect(
                    frame.captured_at - self._pre, frame.captured_at + self._post
                )
                collector.notify(self._wake)
            else:
                self._counters = replace(self._counters, busy=self._counters.busy + 1)
            self._jobs.append(
                _Job(
                    violation_id=violation_id,
                    camera_id=frame.camera_id,
                    frame=frame,
                    boxes=tuple(boxes),
                    collector=collector,
                    deadline_monotonic=time.monotonic()
                    + self._config.post_s
                    + self._config.post_grace_s,
                )
            )
        if collector is None:
            logger.error(
                "clip refused, too many in progress id=%s camera=%s max_pending_clips=%d",
                violation_id,
                frame.camera_id,
                self._config.max_pending_clips,
            )
        self._wake.set()
        return collector is not None

    def pending(self) -> int:
        """Incidents whose clip or snapshot is not written yet."""
        with self._lock:
            return len(self._jobs)

    def counters(self) -> RecorderCounters:
        with self._lock:
            return self._counters

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the evidence recorder is already started")
        self._thread = threading.Thread(target=self._run, name="evidence-recorder", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Write what every pending incident has collected so far, then stop the thread."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self._join_timeout_s)
            if self._thread.is_alive():
                logger.warning("evidence recorder did not stop pending=%d", self.pending())

    def _run(self) -> None:
        while True:
            self._wake.clear()
            job, wait_s = self._next()
            if job is not None:
                self._work(job)
                continue
            if wait_s is None:
                with self._lock:
                    if self._stopping and not self._jobs:
                        return
            self._wake.wait(wait_s)

    def _next(self) -> tuple[_Job | None, float | None]:
        """A job with work ready (a snapshot to draw, a clip complete or overdue), or how long to
        wait for one (None: until woken)."""
        now = time.monotonic()
        with self._lock:
            for job in self._jobs:
                if job.frame is not None:
                    return job, None
            for job in self._jobs:
                collector = job.collector
                if (
                    collector is None
                    or self._stopping
                    or collector.complete
                    or now >= job.deadline_monotonic
                ):
                    return job, None
            if not self._jobs:
                return None, None
            return None, max(0.0, min(job.deadline_monotonic for job in self._jobs) - now)

    def _work(self, job: _Job) -> None:
        if job.frame is not None:
            self._write_snapshot(job, job.frame)
            job.frame = None
            return
        if job.collector is not None:
            self._write_clip(job, job.collector)
        with self._lock:
            self._jobs.remove(job)

    def _write_snapshot(self, job: _Job, frame: Frame) -> None:
        try:
            data = render_snapshot(
                frame.image,
                job.boxes,
                max_width_px=self._config.snapshot_width_px,
                jpeg_quality=self._config.snapshot_jpeg_quality,
            )
            self._store.put_bytes(job.violation_id, EvidenceKind.SNAPSHOT, data)
        except QuotaExceededError:  # the store logged it
            self._count_failure()
            return
        except (EvidenceError, ValueError):
            logger.exception("snapshot failed id=%s camera=%s", job.violation_id, job.camera_id)
            self._count_failure()
            return
        with self._lock:
            self._counters = replace(self._counters, snapshots=self._counters.snapshots + 1)

    def _write_clip(self, job: _Job, collector: RingCollector) -> None:
        frames = collector.frames()
        if not collector.complete:
            logger.warning(
                "clip written without its full post part id=%s camera=%s frames=%d",
                job.violation_id,
                job.camera_id,
                len(frames),
            )
        temp = self._store.temp_path(job.violation_id, EvidenceKind.CLIP)
        try:
            info = encode_clip(
                frames,
                temp,
                preset=self._config.clip_preset,
                crf=self._config.clip_crf,
                fps_hint=self._config.ring_fps,
            )
            self._store.put_file(job.violation_id, EvidenceKind.CLIP, temp)
        except QuotaExceededError:  # the store logged it
            self._count_failure()
            return
        except EvidenceError:
            logger.exception("clip failed id=%s camera=%s", job.violation_id, job.camera_id)
            temp.unlink(missing_ok=True)
            self._count_failure()
            return
        logger.info(
            "clip written id=%s camera=%s frames=%d duration_s=%.1f",
            job.violation_id,
            job.camera_id,
            info.frames,
            info.duration_s,
        )
        with self._lock:
            self._counters = replace(self._counters, clips=self._counters.clips + 1)

    def _count_failure(self) -> None:
        with self._lock:
            self._counters = replace(self._counters, failed=self._counters.failed + 1)
