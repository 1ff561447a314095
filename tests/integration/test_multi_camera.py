"""Four RTSP cameras through one edge process: each violation is attributed to its own camera."""

import time
from collections import Counter
from pathlib import Path

import pytest

from brightkitchen.services.mosquitto import MosquittoBroker
from tests.conftest import BrokerUsers
from tests.fixtures.rtsp import RtspServerFactory
from tests.integration.conftest import (
    StartApi,
    StartEdge,
    edge_config,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def test_violations_of_four_cameras_are_attributed_to_the_cameras_that_saw_them(
    tmp_path: Path,
    mosquitto: MosquittoBroker,
    broker_users: BrokerUsers,
    rtsp_server_factory: RtspServerFactory,
    marker_video: Path,
    plain_video: Path,
    start_api: StartApi,
    start_edge: StartEdge,
) -> None:
    # the marker shows on cameras 2 and 4 only; 1 and 3 see the same kitchen without it
    videos = {1: plain_video, 2: marker_video, 3: plain_video, 4: marker_video}
    rtsp = rtsp_server_factory({f"cam{n}": video for n, video in videos.items()})
    api = start_api()
    edge = start_edge(
        edge_config(
            tmp_path=tmp_path,
            broker=mosquitto,
            users=broker_users,
            cameras={f"cam-{n}": rtsp.url(f"cam{n}") for n in videos},
        )
    )

    def cameras_with_violations() -> set[str]:
        assert edge.process.poll() is None, edge.log()[-3000:]
        return {row["camera"] for row in api.violations()}

    wait_until(
        lambda: cameras_with_violations() >= {"cam-2", "cam-4"},
        timeout_s=90,
        what="a violation from cam-2 and from cam-4",
    )
    # one more loop of the 12 s video: time for cameras 1 and 3 to misreport, if they would
    loop_end = time.monotonic() + 13
    while time.monotonic() < loop_end:
        assert edge.process.poll() is None, edge.log()[-3000:]
        time.sleep(0.5)

    rows = api.violations()
    # the cooldown (600 s) allows one incident per camera
    assert Counter(row["camera"] for row in rows) == {"cam-2": 1, "cam-4": 1}
    assert {row["kind"] for row in rows} == {"uncovered_food"}
    log = edge.log()
    assert all(f"camera state camera=cam-{n} state=online" in log for n in videos), log[-3000:]
