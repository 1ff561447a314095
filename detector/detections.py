"""Detections: parallel arrays of boxes, confidences and classes (supervision's field names)."""

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Detections:
    xyxy: NDArray[np.float32]  # (N, 4) pixels of the frame the detector was given
    confidence: NDArray[np.float32]  # (N,)
    class_id: NDArray[np.int64]  # (N,)
    class_names: tuple[str, ...] = field(default=())  # index -> label, shared with the model
    tracker_id: NDArray[np.int64] | None = None  # (N,) once a tracker has run

    @classmethod
    def empty(cls, class_names: tuple[str, ...] = ()) -> "Detections":
        return cls(
            xyxy=np.zeros((0, 4), dtype=np.float32),
            confidence=np.zeros((0,), dtype=np.float32),
            class_id=np.zeros((0,), dtype=np.int64),
            class_names=class_names,
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: NDArray[np.bool_] | NDArray[np.int64] | slice) -> "Detections":
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            class_names=self.class_names,
            tracker_id=None if self.tracker_id is None else self.tracker_id[index],
        )

    @property
    def labels(self) -> list[str]:
        return [self.class_names[int(i)] for i in self.class_id]


class Detector(Protocol):
    @property
    def class_names(self) -> tuple[str, ...]: ...

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        """Detect objects in a BGR image of any size; boxes come back in that image's pixels."""
        ...
