"""CameraStates: what the retained edge status says of each camera.

Two sources decide it: the frame source (starting, online, offline: on_source_state) and, while
the source is online, the kitchen health rules (frozen, blurred or covered). An online camera that
the health rules flag shows their state; any other shows the source's.
"""

import threading
from collections.abc import Iterable
from datetime import datetime

from contracts import CameraState, CameraStatus


class CameraStates:
    """Thread-safe: sources report from their own threads, the status loop reads."""

    def __init__(self, camera_ids: Iterable[str], started_at: datetime) -> None:
        self._lock = threading.Lock()
        self._sources = {
            camera_id: CameraStatus(state=CameraState.STARTING, since=started_at)
            for camera_id in camera_ids
        }
        self._health: dict[str, CameraStatus | None] = dict.fromkeys(self._sources)

    @property
    def camera_ids(self) -> list[str]:
        return list(self._sources)

    def set_source_state(self, camera_id: str, state: CameraState, at: datetime) -> bool:
        """Record the source's state; whether it changed (an unknown camera changes nothing)."""
        with self._lock:
            current = self._sources.get(camera_id)
            if current is None or current.state == state:
                return False
            self._sources[camera_id] = CameraStatus(state=state, since=at)
            return True

    def set_health(self, camera_id: str, state: CameraState | None, at: datetime) -> bool:
        """Record the health rules' verdict (None: healthy); whether it changed."""
        with self._lock:
            current = self._health[camera_id]
            if (None if current is None else current.state) == state:
                return False
            self._health[camera_id] = None if state is None else CameraStatus(state=state, since=at)
            return True

    def statuses(self) -> dict[str, CameraStatus]:
        with self._lock:
            return {
                camera_id: (
                    health
                    if status.state is CameraState.ONLINE
                    and (health := self._health[camera_id]) is not None
                    else status
                )
                for camera_id, status in self._sources.items()
            }
