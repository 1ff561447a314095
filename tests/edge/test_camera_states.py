"""CameraStates: the source's state, overlaid by the health rules' verdict while online."""

from datetime import timedelta

from contracts import CameraState
from edge.camera_states import CameraStates
from tests.fixtures.edge import T0


def test_cameras_start_as_starting_and_follow_their_source() -> None:
    states = CameraStates(["cam-1", "cam-2"], started_at=T0)
    assert {c: s.state for c, s in states.statuses().items()} == {
        "cam-1": CameraState.STARTING,
        "cam-2": CameraState.STARTING,
    }

    assert states.set_source_state("cam-1", CameraState.ONLINE, T0 + timedelta(seconds=1))
    assert not states.set_source_state("cam-1", CameraState.ONLINE, T0 + timedelta(seconds=2))
    assert not states.set_source_state("cam-9", CameraState.ONLINE, T0)  # unknown: ignored

    status = states.statuses()["cam-1"]
    assert (status.state, status.since) == (CameraState.ONLINE, T0 + timedelta(seconds=1))


def test_a_health_verdict_shows_only_while_the_source_is_online() -> None:
    states = CameraStates(["cam-1"], started_at=T0)
    frozen_at = T0 + timedelta(seconds=5)
    assert states.set_health("cam-1", CameraState.FROZEN, frozen_at)
    assert states.statuses()["cam-1"].state is CameraState.STARTING  # not online yet

    states.set_source_state("cam-1", CameraState.ONLINE, T0 + timedelta(seconds=6))
    assert states.statuses()["cam-1"].state is CameraState.FROZEN
    assert states.statuses()["cam-1"].since == frozen_at

    states.set_source_state("cam-1", CameraState.OFFLINE, T0 + timedelta(seconds=7))
    assert states.statuses()["cam-1"].state is CameraState.OFFLINE  # offline wins

    states.set_source_state("cam-1", CameraState.ONLINE, T0 + timedelta(seconds=8))
    assert not states.set_health("cam-1", CameraState.FROZEN, T0 + timedelta(seconds=9))
    assert states.set_health("cam-1", None, T0 + timedelta(seconds=10))
    assert states.statuses()["cam-1"].state is CameraState.ONLINE
