"""The Frame that flows from a source to the detector, and the FrameSource seam."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Frame:
    camera_id: str
    index: int
    captured_at: datetime  # aware UTC, when the reader received the frame
    image: NDArray[np.uint8]  # (H, W, 3) BGR

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


class SourceState(StrEnum):
    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"


StateListener = Callable[[str, SourceState], None]
"""Called with (camera_id, new_state) once per change of state, from the reader thread."""


class FrameSource(Protocol):
    def frames(self) -> Iterator[Frame]:
        """Yield the newest frame each time a new one arrives; ends after close()."""
        ...

    def close(self) -> None: ...
