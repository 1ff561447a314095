"""The parents' live preview: each camera's newest frame, downscaled, faces blurred, to the API.

Camera threads call offer() with every frame; one frame per camera every 1 / fps seconds of
captured_at is taken, and only when that camera's previous preview has been sent (otherwise it is
dropped and counted), so offer() never blocks and never queues. A background thread downscales it
to width_px, blurs the face regions and PUTs the JPEG to /api/v1/edge/cameras/{camera}/preview.
The raw frame never leaves: every preview is built by render_preview(), which always blurs.

Face regions come from the camera's latest detections (update_detections()) when they are at most
detections_max_age_s older than the frame, plus skin-toned blobs (edge.faces) when skin_always
is set; without fresh detections the fallback decides: skin blobs (the whole frame when it is
grey-scale, as at night in infrared, where skin has no colour), the whole frame, or nothing.
"""

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import httpx
import numpy as np
from numpy.typing import NDArray

from detector.detections import Detections
from edge.evidence.config import PreviewConfig, PreviewFallback
from edge.evidence.ring import downscale, encode_jpeg
from edge.faces import (
    Region,
    is_grayscale,
    obscure,
    regions_from_detections,
    skin_regions,
    whole_frame,
)
from streams.frame import Frame

logger = logging.getLogger(__name__)


def render_preview(
    image: NDArray[np.uint8],
    detected_regions: Sequence[Region] | None,
    *,
    width_px: int = 640,
    jpeg_quality: int = 70,
    fallback: PreviewFallback = PreviewFallback.SKIN,
    skin_always: bool = True,
) -> bytes:
    """The preview JPEG of a BGR `image`: at most width_px wide, face regions obscured.

    detected_regions: faces from fresh detections, or None when there are none.
    """
    small = downscale(image, width_px)
    regions: list[Region] = list(detected_regions or ())
    if detected_regions is None:
        if fallback is PreviewFallback.BLUR_FRAME or (
            fallback is PreviewFallback.SKIN and is_grayscale(small)
        ):
            regions = list(whole_frame())
        elif fallback is PreviewFallback.SKIN:
            regions.extend(skin_regions(small))
    elif skin_always:
        regions.extend(skin_regions(small))
    return encode_jpeg(obscure(small, regions), jpeg_quality)


@dataclass(frozen=True, slots=True)
class PreviewCounters:
    sent: int = 0
    dropped: int = 0  # due, but the previous preview was still being sent
    failed: int = 0  # not accepted (no answer or not 204)


@dataclass(frozen=True, slots=True)
class _Faces:
    regions: tuple[Region, ...]
    detected_at: datetime


@dataclass(slots=True)
class _Camera:
    next_due: datetime | None = None
    faces: _Faces | None = None
    pending: tuple[Frame, tuple[Region, ...] | None] | None = None
    in_flight: bool = False
    failing: bool = False
    counters: PreviewCounters = PreviewCounters()


class PreviewPublisher:
    def __init__(self, config: PreviewConfig, client: httpx.Client) -> None:
        self._config = config
        self._client = client
        self._interval = timedelta(seconds=1.0 / config.fps)
        self._max_age = timedelta(seconds=config.detections_max_age_s)
        self._lock = threading.Lock()
        self._cameras: dict[str, _Camera] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update_detections(
        self, camera_id: str, detections: Detections, width: int, height: int, at: datetime
    ) -> None:
        """The camera's latest detections, made on a width x height image captured `at`."""
        regions = regions_from_detections(
            detections,
            width,
            height,
            margin=self._config.face_margin,
            person_head_fraction=self._config.person_head_fraction,
        )
        with self._lock:
            self._camera(camera_id).faces = _Faces(regions, at)

    def on_detections(self, frame: Frame, detections: Detections) -> None:
        """The detections (in `frame`'s pixels) the camera's pipeline has for `frame`."""
        self.update_detections(
            frame.camera_id, detections, frame.width, frame.height, frame.captured_at
        )

    def on_frame(self, frame: Frame) -> None:
        """A frame hook: offer() every frame a camera reads."""
        self.offer(frame)

    def offer(self, frame: Frame) -> bool:
        """Take `frame` for the preview if it is due and the last one was sent; never blocks."""
        with self._lock:
            camera = self._camera(frame.camera_id)
            due = camera.next_due
            if due is not None and frame.captured_at < due:
                return False
            camera.next_due = frame.captured_at + self._interval
            if camera.in_flight:
                camera.counters = replace(camera.counters, dropped=camera.counters.dropped + 1)
                return False
            faces = camera.faces
            fresh = faces is not None and abs(frame.captured_at - faces.detected_at) <= (
                self._max_age
            )
            camera.pending = (frame, faces.regions if fresh and faces is not None else None)
            camera.in_flight = True
        self._wake.set()
        return True

    def counters(self, camera_id: str) -> PreviewCounters:
        with self._lock:
            return self._camera(camera_id).counters

    def idle(self) -> bool:
        """No preview is waiting or being sent."""
        with self._lock:
            return not any(camera.in_flight for camera in self._cameras.values())

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the preview publisher is already started")
        self._thread = threading.Thread(target=self._run, name="preview", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)

    def _camera(self, camera_id: str) -> _Camera:
        camera = self._cameras.get(camera_id)
        if camera is None:
            camera = self._cameras[camera_id] = _Camera()
        return camera

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                work = [
                    (camera_id, camera.pending)
                    for camera_id, camera in self._cameras.items()
                    if camera.pending is not None
                ]
                for camera_id, _ in work:
                    self._cameras[camera_id].pending = None
            for camera_id, pending in work:
                assert pending is not None
                self._send(camera_id, *pending)
            if not work:
                self._wake.wait()

    def _send(self, camera_id: str, frame: Frame, regions: tuple[Region, ...] | None) -> None:
        ok = False
        try:
            data = render_preview(
                frame.image,
                regions,
                width_px=self._config.width_px,
                jpeg_quality=self._config.jpeg_quality,
                fallback=self._config.fallback,
                skin_always=self._config.skin_always,
            )
            response = self._client.put(
                f"/api/v1/edge/cameras/{camera_id}/preview",
                content=data,
                headers={
                    "Content-Type": "image/jpeg",
                    "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
                },
                timeout=self._config.timeout_s,
            )
            ok = response.status_code == 204
            reason = f"HTTP {response.status_code}"
        except httpx.HTTPError as err:
            reason = type(err).__name__
        except Exception as err:  # a render failure must not end the thread
            logger.exception("preview failed camera=%s", camera_id)
            reason = type(err).__name__
        with self._lock:
            camera = self._cameras[camera_id]
            camera.in_flight = False
            counters = camera.counters
            camera.counters = replace(
                counters, sent=counters.sent + ok, failed=counters.failed + (not ok)
            )
            changed = camera.failing == ok
            camera.failing = not ok
        if changed and ok:
            logger.info("preview resumed camera=%s", camera_id)
        elif changed:
            logger.warning("preview not accepted camera=%s reason=%s", camera_id, reason)
