"""The seam between a frame source's reader loop and the library that opens and decodes a stream."""

from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np
from numpy.typing import NDArray


class Picture(Protocol):
    """A decoded picture whose conversion to BGR is paid only when someone takes it."""

    def to_bgr(self) -> NDArray[np.uint8]:
        """(H, W, 3) uint8 BGR."""
        ...


class VideoSession(Protocol):
    """One open connection to a stream."""

    def pictures(self) -> Iterator[Picture | None]:
        """Decode until the stream ends (return) or fails (raise StreamReadError).

        Yields None for data that decoded to no picture yet (a packet before the first keyframe,
        a partial frame), so the caller can check its own no-picture deadline between reads.
        """
        ...

    def close(self) -> None: ...


SessionOpener = Callable[[str], VideoSession]
"""Opens a URL or raises SourceOpenError (message without the password)."""
