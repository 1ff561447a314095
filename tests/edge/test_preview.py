"""The live preview: downscaled, faces blurred before anything leaves the edge, sent at a low
rate, dropped (never queued) while the previous one is in flight."""

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from edge.evidence.config import PreviewConfig, PreviewFallback
from edge.faces import regions_from_detections
from edge.preview import PreviewPublisher, render_preview
from streams.frame import Frame
from tests.edge.evidence.fake_api import FakeEvidenceApi, Mode
from tests.edge.pictures import CLASSES, detail, face_like, noise, steel
from tests.fixtures.edge import T0, detections_of, wait_until

MASK_CROPS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "mask-crops"
FACE_BOX = (400, 200, 560, 400)  # in a 1280x720 frame


def decode(data: bytes) -> NDArray[np.uint8]:
    assert data[:2] == b"\xff\xd8"
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return np.asarray(image, dtype=np.uint8)


def kept_detail(
    preview: NDArray[np.uint8], raw: NDArray[np.uint8], xyxy: tuple[int, int, int, int]
) -> float:
    """Detail left in a box of the raw frame's pixels, against the raw frame downscaled alike."""
    scale = preview.shape[1] / raw.shape[1]
    size = (preview.shape[1], preview.shape[0])
    reference = np.asarray(cv2.resize(raw, size, interpolation=cv2.INTER_AREA), np.uint8)
    x1, y1, x2, y2 = (round(v * scale) for v in xyxy)
    return detail(preview[y1:y2, x1:x2]) / detail(reference[y1:y2, x1:x2])


def test_previews_are_downscaled_jpegs() -> None:
    preview = decode(render_preview(steel(), (), width_px=640))
    assert preview.shape == (360, 640, 3)
    small = decode(render_preview(steel(240, 320), (), width_px=640))
    assert small.shape == (240, 320, 3)  # never scaled up


def test_detected_faces_are_blurred_and_the_rest_kept() -> None:
    raw = steel()
    detections = detections_of(xyxy=[FACE_BOX], labels=["face_bare"], class_names=CLASSES)
    regions = regions_from_detections(detections, 1280, 720)
    preview = decode(render_preview(raw, regions, fallback=PreviewFallback.NONE, skin_always=False))
    assert kept_detail(preview, raw, FACE_BOX) < 0.02
    assert kept_detail(preview, raw, (900, 100, 1200, 600)) > 0.3  # JPEG costs noise some detail


def test_a_persons_upper_part_is_blurred_when_no_face_is_detected() -> None:
    raw = steel()
    person = detections_of(xyxy=[[800, 100, 1000, 700]], labels=["person"], class_names=CLASSES)
    regions = regions_from_detections(person, 1280, 720)
    preview = decode(render_preview(raw, regions, skin_always=False))
    assert kept_detail(preview, raw, (800, 100, 1000, 300)) < 0.02  # the head
    assert kept_detail(preview, raw, (820, 500, 980, 700)) > 0.3  # the legs


def test_a_face_is_blurred_without_any_model() -> None:
    raw = steel()
    raw[200:440, 500:740] = cv2.resize(face_like(120), (240, 240))
    preview = decode(render_preview(raw, None, fallback=PreviewFallback.SKIN))
    assert kept_detail(preview, raw, (520, 220, 720, 420)) < 0.05
    assert kept_detail(preview, raw, (900, 100, 1200, 600)) > 0.3


def test_an_infrared_frame_without_detections_is_blurred_whole() -> None:
    gray = noise(720, 1280)[..., :1].repeat(3, axis=2)  # B = G = R: skin has no colour
    preview = decode(render_preview(gray, None, fallback=PreviewFallback.SKIN))
    assert kept_detail(preview, gray, (0, 0, 1280, 720)) < 0.02


def crop_paths() -> list[Path]:
    if not (MASK_CROPS / "without_mask").is_dir():
        pytest.skip(f"the face crops are not at {MASK_CROPS}")
    without = sorted((MASK_CROPS / "without_mask").glob("*.jpg"))[::160]
    with_mask = sorted((MASK_CROPS / "with_mask").glob("*.jpg"))[::360]
    return without + with_mask


def test_real_faces_are_blurred_without_any_model() -> None:
    """Crops of real faces (read from shared/, never copied here) in a kitchen-coloured frame."""
    for path in crop_paths():
        face = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert face is not None, path
        face = cv2.resize(face, (160, 160), interpolation=cv2.INTER_AREA)
        raw = steel()
        raw[200:360, 500:660] = face
        preview = decode(render_preview(raw, None, fallback=PreviewFallback.SKIN))
        assert preview.shape == (360, 640, 3)
        assert kept_detail(preview, raw, (532, 232, 628, 328)) < 0.1, path.name


def frame(t_s: float, image: NDArray[np.uint8], camera_id: str = "cam-1") -> Frame:
    return Frame(camera_id, round(t_s * 10), T0 + timedelta(seconds=t_s), image)


@pytest.fixture
def api() -> Iterator[FakeEvidenceApi]:
    with FakeEvidenceApi() as api:
        yield api


def test_sends_at_the_configured_rate_and_drops_while_in_flight(api: FakeEvidenceApi) -> None:
    gate = threading.Event()
    api.preview_gate = gate  # the API holds the first preview until released
    publisher = PreviewPublisher(PreviewConfig(fps=1.0, width_px=320), api.client())
    publisher.start()
    image = steel(360, 640)
    try:
        taken = [publisher.offer(frame(i / 10, image)) for i in range(30)]  # 10 fps, 3 s
        assert [i for i, ok in enumerate(taken) if ok] == [0]
        assert publisher.counters("cam-1").dropped == 2  # due at 1 s and 2 s, one in flight
        gate.set()
        wait_until(publisher.idle, what="the first preview sent")
        assert publisher.offer(frame(3.0, image))
        wait_until(lambda: len(api.previews.get("cam-1", [])) == 2, what="the second preview")
        wait_until(publisher.idle, what="the second preview acknowledged")
    finally:
        publisher.close()
    assert [decode(p).shape for p in api.previews["cam-1"]] == [(180, 320, 3)] * 2
    counters = publisher.counters("cam-1")
    assert (counters.sent, counters.dropped, counters.failed) == (2, 2, 0)


def test_stale_detections_give_way_to_the_fallback(api: FakeEvidenceApi) -> None:
    config = PreviewConfig(
        fps=1.0,
        detections_max_age_s=2.0,
        fallback=PreviewFallback.BLUR_FRAME,
        skin_always=False,
    )
    publisher = PreviewPublisher(config, api.client())
    publisher.start()
    raw = steel()
    face = detections_of(xyxy=[FACE_BOX], labels=["face_bare"], class_names=CLASSES)
    try:
        publisher.on_detections(frame(0.0, raw), face)  # detected at T0 on this frame
        publisher.on_frame(frame(1.0, raw))  # detections 1 s old: fresh
        wait_until(publisher.idle, what="the first preview")
        assert publisher.offer(frame(5.0, raw))  # 5 s old: stale, the whole frame goes
        wait_until(publisher.idle, what="the second preview")
    finally:
        publisher.close()
    fresh, stale = (decode(p) for p in api.previews["cam-1"])
    control = (900, 100, 1200, 600)
    assert kept_detail(fresh, raw, FACE_BOX) < 0.02
    assert kept_detail(fresh, raw, control) > 0.3
    assert kept_detail(stale, raw, control) < 0.02


def test_a_refused_preview_is_counted_and_logged_once(
    api: FakeEvidenceApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge.preview")
    api.mode = Mode.UNAVAILABLE
    publisher = PreviewPublisher(PreviewConfig(fps=1.0), api.client())
    publisher.start()
    image = steel(360, 640)
    try:
        for t_s in (0.0, 1.0, 2.0):
            assert publisher.offer(frame(t_s, image))
            wait_until(publisher.idle, what="the preview attempt")
        api.mode = Mode.ACCEPT
        assert publisher.offer(frame(3.0, image))
        wait_until(publisher.idle, what="the accepted preview")
    finally:
        publisher.close()
    counters = publisher.counters("cam-1")
    assert (counters.sent, counters.failed) == (1, 3)
    assert caplog.text.count("preview not accepted") == 1
    assert caplog.text.count("preview resumed") == 1
