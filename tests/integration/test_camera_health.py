"""Camera health for real: frozen, covered and dropped RTSP cameras raise a violation and recover.

A real `python -m edge` process reads three cameras from real RTSP servers (gst-rtsp-server
looping generated videos) and publishes to a real Mosquitto broker; a subscriber records what
arrives. Each camera has one problem:
- cam-frozen: its video holds the exact same picture for FROZEN_S seconds, then moves again;
- cam-covered: its video goes near-black without detail (a covered lens) for COVERED_S seconds;
- cam-drop: its RTSP server is stopped until the edge reports the outage, then started again.
Every health rule watches every camera, so each camera must raise only its own violation.
"""

from collections.abc import Callable, Sequence
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.frame import PictureType
from numpy.typing import NDArray

from brightkitchen.services.mosquitto import MosquittoBroker
from contracts import (
    CameraState,
    EdgeStatus,
    ViolationEnd,
    ViolationEvent,
    ViolationKind,
    decode_status,
    decode_violation,
    decode_violation_end,
    status_topic,
    violation_end_topic,
    violation_topic,
)
from tests.conftest import EDGE, SITE, BrokerUsers
from tests.fixtures.edge import MqttRecorder, Received
from tests.fixtures.rtsp import VIDEO_FPS, VIDEO_SIZE, RtspServerFactory
from tests.integration.conftest import StartEdge, edge_config, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


FROZEN_CAMERA = "cam-frozen"
COVERED_CAMERA = "cam-covered"
DROPPED_CAMERA = "cam-drop"

NORMAL_S = 4.0
# H.264 keeps refining a repeated picture for about a second before its decoded frames stop
# changing; the rest of the section must outlast min_duration_s plus the sampling.
FROZEN_S = 8.0
COVERED_S = 6.0
HEALTH_SAMPLE_INTERVAL_S = 0.5
GOP_FRAMES = 10


class Section(StrEnum):
    NORMAL = "normal"  # a textured scene with a moving box and sensor noise: every frame differs
    FROZEN = "frozen"  # the section's first picture, repeated exactly
    COVERED = "covered"  # near-black, no detail; its level flickers, as a covered sensor's does


def _write_camera_video(path: Path, sections: Sequence[tuple[Section, float]]) -> None:
    """An H.264 MP4 at VIDEO_FPS and VIDEO_SIZE made of `sections` (kind, seconds), in order.

    Keyframes every GOP_FRAMES frames except inside a frozen section: a keyframe there would be
    coded afresh and decode differently from the picture before it, so the stream would not be
    frozen any more (a camera that freezes repeats its last picture, it does not re-encode it).
    """
    width, height = VIDEO_SIZE
    rng = np.random.default_rng(7)
    blocks = rng.integers(30, 226, size=(height // 20 + 1, width // 20 + 1, 3), dtype=np.int16)
    background = np.repeat(np.repeat(blocks, 20, axis=0), 20, axis=1)[:height, :width]
    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=VIDEO_FPS)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.max_b_frames = 0
        stream.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "crf": "23",
            # keyframes only where forced below; one slice per picture (see rtsp_server.py)
            "x264-params": "keyint=1000:min-keyint=1000:scenecut=0:bframes=0:sliced-threads=0",
        }
        index = 0
        for section, duration_s in sections:
            held: NDArray[np.uint8] | None = None
            for number in range(round(duration_s * VIDEO_FPS)):
                if section is Section.FROZEN:
                    held = _render(background, index, rng) if held is None else held
                    rgb = held
                elif section is Section.COVERED:
                    level = 3 + (index * 3) % 7
                    noise = rng.integers(-2, 3, size=(height, width, 3))
                    rgb = np.clip(level + noise, 0, 255).astype(np.uint8)
                else:
                    rgb = _render(background, index, rng)
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = index
                frame.time_base = Fraction(1, VIDEO_FPS)
                if section is not Section.FROZEN and number % GOP_FRAMES == 0:
                    frame.pict_type = PictureType.I
                container.mux(stream.encode(frame))
                index += 1
        container.mux(stream.encode(None))


def _render(
    background: NDArray[np.int16], index: int, rng: np.random.Generator
) -> NDArray[np.uint8]:
    image = background.copy()
    width = image.shape[1]
    x = (index * 12) % (width - 80)
    image[140:220, x : x + 80] = (240, 240, 240)
    image += rng.integers(-4, 5, size=image.shape, dtype=np.int16)
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def frozen_video(videos_dir: Path) -> Path:
    path = videos_dir / "health_frozen.mp4"
    _write_camera_video(
        path, [(Section.NORMAL, NORMAL_S), (Section.FROZEN, FROZEN_S), (Section.NORMAL, NORMAL_S)]
    )
    return path


@pytest.fixture(scope="session")
def covered_video(videos_dir: Path) -> Path:
    path = videos_dir / "health_covered.mp4"
    _write_camera_video(
        path,
        [(Section.NORMAL, NORMAL_S), (Section.COVERED, COVERED_S), (Section.NORMAL, NORMAL_S)],
    )
    return path


@pytest.fixture(scope="session")
def steady_video(videos_dir: Path) -> Path:
    path = videos_dir / "health_steady.mp4"
    _write_camera_video(path, [(Section.NORMAL, NORMAL_S)])
    return path


class _Mqtt5Recorder(MqttRecorder):
    """Everything under this edge's topics, with the retain flag each was published with."""

    def __init__(self, broker: MosquittoBroker, users: BrokerUsers, client_id: str) -> None:
        super().__init__(
            broker.host,
            broker.port,
            users.tester.username,
            users.tester.password,
            f"brightkitchen/v1/{SITE}/{EDGE}/#",
            client_id,
            retain_as_published=True,
        )

    def messages(self, topic: str) -> list[Received]:
        return self.received(topic)

    def violations(self) -> list[ViolationEvent]:
        """Each violation once (QoS 1 may deliver one twice), in arrival order."""
        unique: dict[str, ViolationEvent] = {}
        for message in self.messages(violation_topic(SITE, EDGE)):
            event = decode_violation(message.payload)
            unique.setdefault(str(event.violation_id), event)
        return list(unique.values())

    def ends(self) -> list[ViolationEnd]:
        return [
            decode_violation_end(m.payload) for m in self.messages(violation_end_topic(SITE, EDGE))
        ]

    def statuses(self) -> list[EdgeStatus]:
        """The retained statuses, in order."""
        return [
            decode_status(message.payload)
            for message in self.messages(status_topic(SITE, EDGE))
            if message.retain
        ]


def _health_config(
    tmp_path: Path, broker: MosquittoBroker, users: BrokerUsers, cameras: dict[str, str]
) -> Path:
    """Every health rule on every camera, with thresholds short enough for a test.

    min_duration_s 2 s (frozen, covered) is four samples at HEALTH_SAMPLE_INTERVAL_S, 1 s
    (offline) is on top of the 2 s stall timeout; clear_s 1 s is two healthy samples; the long
    cooldowns keep the looping videos from raising the same violation again while the test runs.
    The frame thresholds (max_change, min_brightness, ...) are the product's defaults.
    """
    health_rule = {"severity": 2, "clear_s": 1.0, "cooldown_s": 600.0}
    return edge_config(
        tmp_path=tmp_path,
        broker=broker,
        users=users,
        cameras=cameras,
        detect_fps=1,
        stall_timeout_s=2.0,
        rules=[],
        kitchen={
            "health_sample_interval_s": HEALTH_SAMPLE_INTERVAL_S,
            "rules": [
                {"id": "frozen", "kind": "camera_frozen", "min_duration_s": 2.0, **health_rule},
                {
                    "id": "covered",
                    "kind": "camera_blurred_or_covered",
                    "min_duration_s": 2.0,
                    **health_rule,
                },
                {"id": "offline", "kind": "camera_offline", "min_duration_s": 1.0, **health_rule},
            ],
        },
    )


def _camera_state(status: EdgeStatus, camera: str) -> CameraState | None:
    entry = status.cameras.get(camera)
    return None if entry is None else entry.state


def _went_and_recovered(statuses: Sequence[EdgeStatus], camera: str, state: CameraState) -> bool:
    """Some status shows the camera in `state` and a later one shows it online again."""
    states = [_camera_state(status, camera) for status in statuses]
    if state not in states:
        return False
    return CameraState.ONLINE in states[states.index(state) :]


def test_frozen_covered_and_dropped_cameras_raise_their_violation_and_recover(
    tmp_path: Path,
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    rtsp_server_factory: RtspServerFactory,
    frozen_video: Path,
    covered_video: Path,
    steady_video: Path,
    start_edge: StartEdge,
) -> None:
    cameras_server = rtsp_server_factory({"frozen": frozen_video, "covered": covered_video})
    dropping_server = rtsp_server_factory({"steady": steady_video})
    recorder = _Mqtt5Recorder(mosquitto, broker_users, "camera-health-recorder")
    try:
        wait_until(recorder.subscribed.is_set, timeout_s=10, what="the recorder to subscribe")
        config = _health_config(
            tmp_path,
            mosquitto,
            broker_users,
            {
                FROZEN_CAMERA: cameras_server.url("frozen"),
                COVERED_CAMERA: cameras_server.url("covered"),
                DROPPED_CAMERA: dropping_server.url("steady"),
            },
        )
        edge = start_edge(config)

        def edge_alive(predicate: Callable[[], bool]) -> Callable[[], bool]:
            def check() -> bool:
                assert edge.process.poll() is None, edge.log()[-3000:]
                return predicate()

            return check

        def dropped_camera_is(state: CameraState) -> bool:
            statuses = recorder.statuses()
            return bool(statuses) and _camera_state(statuses[-1], DROPPED_CAMERA) is state

        def violation_of(camera: str, kind: ViolationKind) -> ViolationEvent | None:
            return next(
                (v for v in recorder.violations() if (v.camera, v.kind) == (camera, kind)), None
            )

        # the camera drops: its RTSP server goes away until the edge has raised the outage
        wait_until(
            edge_alive(lambda: dropped_camera_is(CameraState.ONLINE)),
            timeout_s=60,
            what=f"{DROPPED_CAMERA} online",
        )
        dropping_server.stop()
        wait_until(
            edge_alive(
                lambda: violation_of(DROPPED_CAMERA, ViolationKind.CAMERA_OFFLINE) is not None
            ),
            timeout_s=30,
            what=f"a camera_offline violation for {DROPPED_CAMERA}",
        )
        dropping_server.start()

        expected = {
            FROZEN_CAMERA: (ViolationKind.CAMERA_FROZEN, CameraState.FROZEN),
            COVERED_CAMERA: (
                ViolationKind.CAMERA_BLURRED_OR_COVERED,
                CameraState.BLURRED_OR_COVERED,
            ),
            DROPPED_CAMERA: (ViolationKind.CAMERA_OFFLINE, CameraState.OFFLINE),
        }

        def everything_recovered() -> bool:
            ended = {end.violation_id for end in recorder.ends()}
            statuses = recorder.statuses()
            for camera, (kind, state) in expected.items():
                violation = violation_of(camera, kind)
                if violation is None or violation.violation_id not in ended:
                    return False
                if not _went_and_recovered(statuses, camera, state):
                    return False
            return True

        wait_until(
            edge_alive(everything_recovered),
            timeout_s=90,
            what="each camera's violation, its end and its state back to online",
        )

        violations = recorder.violations()
        # each camera raised its own violation, once, and nothing else
        assert sorted((v.camera, v.kind.value) for v in violations) == sorted(
            (camera, kind.value) for camera, (kind, _state) in expected.items()
        ), [(v.camera, v.kind.value) for v in violations]
        ends = {end.violation_id: end for end in recorder.ends()}
        for violation in violations:
            assert (violation.site, violation.edge, violation.rule) == (
                SITE,
                EDGE,
                {
                    ViolationKind.CAMERA_FROZEN: "frozen",
                    ViolationKind.CAMERA_BLURRED_OR_COVERED: "covered",
                    ViolationKind.CAMERA_OFFLINE: "offline",
                }[violation.kind],
            )
            end = ends[violation.violation_id]
            assert end.camera == violation.camera
            assert end.ended_at >= violation.occurred_at
        # and the edge still says so to anyone who subscribes now
        late = _Mqtt5Recorder(mosquitto, broker_users, "camera-health-late")
        try:
            wait_until(lambda: bool(late.statuses()), timeout_s=10, what="the retained edge status")
            retained = late.statuses()[0]
        finally:
            late.close()
        assert {camera: _camera_state(retained, camera) for camera in expected} == dict.fromkeys(
            expected, CameraState.ONLINE
        )
        assert edge.process.poll() is None, edge.log()[-3000:]
    finally:
        recorder.close()
