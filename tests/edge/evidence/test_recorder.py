"""EvidenceRecorder: an incident becomes a clip from `pre` before to `post` after, and a snapshot,
written in the background while the camera keeps appending frames."""

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from edge.evidence.config import EvidenceConfig
from edge.evidence.items import EvidenceKind
from edge.evidence.recorder import EvidenceRecorder
from edge.evidence.store import EvidenceStore
from edge.violation import Box
from tests.edge.evidence.frames import marked_frame, read_marker
from tests.fixtures.edge import wait_until

BOX = Box(label="head_bare", confidence=0.91, x1=0.5, y1=0.3, x2=0.7, y2=0.7)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EvidenceStore]:
    store = EvidenceStore(tmp_path / "evidence", quota_bytes=200 * 1024 * 1024)
    yield store
    store.close()


def config(tmp_path: Path, **changes: object) -> EvidenceConfig:
    return EvidenceConfig.model_validate(
        {"directory": tmp_path / "evidence", "ring_width_px": 320, **changes}
    )


def clip_markers(path: Path) -> tuple[list[int], float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        markers = [
            read_marker(np.asarray(f.to_ndarray(format="bgr24"), np.uint8))
            for f in container.decode(stream)
        ]
        return markers, float(container.duration or 0) / av.time_base


def test_an_incident_clip_holds_pre_and_post_seconds(tmp_path: Path, store: EvidenceStore) -> None:
    recorder = EvidenceRecorder(config(tmp_path, pre_s=5.0, post_s=10.0), store, ["cam-1"])
    recorder.start()
    violation_id = uuid.uuid4()
    try:
        for index in range(81):  # 0 .. 8.0 s at 10 fps
            recorder.on_frame(marked_frame(index / 10, index))
        incident = marked_frame(8.0, 80, width=1280, height=720)
        assert recorder.record(violation_id, incident, [BOX])
        for index in range(81, 200):  # the camera goes on to 19.9 s
            recorder.on_frame(marked_frame(index / 10, index))
        wait_until(
            lambda: store.get(violation_id, EvidenceKind.CLIP) is not None,
            timeout_s=60,
            what="the clip",
        )
    finally:
        recorder.close()
    clip = store.get(violation_id, EvidenceKind.CLIP)
    assert clip is not None
    markers, duration_s = clip_markers(clip.path)
    assert markers == list(range(30, 181))  # 3.0 s .. 18.0 s: 5 s before, 10 s after
    assert duration_s == pytest.approx(15.0, abs=0.2)  # within two frames
    snapshot = store.get(violation_id, EvidenceKind.SNAPSHOT)
    assert snapshot is not None
    data = np.frombuffer(snapshot.path.read_bytes(), np.uint8)
    image = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)
    assert image.shape == (720, 1280, 3)  # the incident frame at full size
    b, g, r = (int(c) for c in image[500, 640 - 1])  # on the box's left edge (x=0.5)
    assert (r > 180, g < 80, b < 80) == (True, True, True)
    assert recorder.counters().clips == 1
    assert recorder.counters().snapshots == 1
    assert recorder.pending() == 0


def test_a_camera_that_goes_quiet_still_gets_its_clip(
    tmp_path: Path, store: EvidenceStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="edge.evidence.recorder")
    recorder = EvidenceRecorder(
        config(tmp_path, pre_s=2.0, post_s=0.3, post_grace_s=0.0), store, ["cam-1"]
    )
    recorder.start()
    violation_id = uuid.uuid4()
    try:
        for index in range(51):
            recorder.on_frame(marked_frame(index / 10, index))
        recorder.record(violation_id, marked_frame(5.0, 50), [BOX])  # and no frame after it
        wait_until(
            lambda: store.get(violation_id, EvidenceKind.CLIP) is not None,
            timeout_s=60,
            what="the clip",
        )
    finally:
        recorder.close()
    clip = store.get(violation_id, EvidenceKind.CLIP)
    assert clip is not None
    assert clip_markers(clip.path)[0] == list(range(30, 51))
    assert "without its full post part" in caplog.text


def test_too_many_clips_at_once_are_refused_but_snapshots_are_made(
    tmp_path: Path, store: EvidenceStore
) -> None:
    recorder = EvidenceRecorder(
        config(tmp_path, pre_s=1.0, post_s=60.0, max_pending_clips=1), store, ["cam-1", "cam-2"]
    )
    recorder.start()
    first, second = uuid.uuid4(), uuid.uuid4()
    try:
        for index in range(20):
            recorder.on_frame(marked_frame(index / 10, index))
            recorder.on_frame(marked_frame(index / 10, index, camera_id="cam-2"))
        assert recorder.record(first, marked_frame(1.9, 19), [BOX])
        assert not recorder.record(second, marked_frame(1.9, 19, camera_id="cam-2"), [BOX])
        wait_until(lambda: recorder.counters().snapshots == 2, timeout_s=30, what="both snapshots")
    finally:
        recorder.close()  # writes the first clip with what it has
    assert recorder.counters().busy == 1
    assert store.get(first, EvidenceKind.CLIP) is not None
    assert store.get(second, EvidenceKind.CLIP) is None
    assert store.get(second, EvidenceKind.SNAPSHOT) is not None


def test_full_quota_counts_a_failure_and_keeps_running(tmp_path: Path) -> None:
    tiny = EvidenceStore(tmp_path / "evidence", quota_bytes=2_000)
    recorder = EvidenceRecorder(config(tmp_path, pre_s=1.0, post_s=0.5), tiny, ["cam-1"])
    recorder.start()
    try:
        for index in range(10):
            recorder.on_frame(marked_frame(index / 10, index))
        recorder.record(uuid.uuid4(), marked_frame(0.9, 9), [BOX])
        for index in range(10, 20):
            recorder.on_frame(marked_frame(index / 10, index))
        wait_until(lambda: recorder.counters().failed == 2, timeout_s=60, what="two refusals")
        assert tiny.counts().refused == 2
    finally:
        recorder.close()
        tiny.close()
