"""What the evidence store holds: kinds of evidence, upload states, and the item records."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from uuid import UUID


class EvidenceKind(StrEnum):
    CLIP = "clip"
    SNAPSHOT = "snapshot"

    @property
    def content_type(self) -> str:
        return "video/mp4" if self is EvidenceKind.CLIP else "image/jpeg"

    @property
    def extension(self) -> str:
        return "mp4" if self is EvidenceKind.CLIP else "jpg"


class ItemState(StrEnum):
    PENDING = "pending"
    ACKED = "acked"
    PARKED = "parked"


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    seq: int
    violation_id: UUID
    kind: EvidenceKind
    path: Path
    size_bytes: int
    sha256: str  # hex
    created_at: datetime
    state: ItemState
    attempts: int
    next_attempt_at: datetime
    not_found_since: datetime | None  # first 404 of the current run of 404s
    last_error: str | None


@dataclass(frozen=True, slots=True)
class StoreCounts:
    pending: int
    parked: int
    acked: int  # acknowledged files still on disk (deleted when room is needed)
    used_bytes: int
    refused: int  # new evidence refused for want of room since start


def file_name(violation_id: UUID, kind: EvidenceKind) -> str:
    return f"{violation_id}.{kind.value}.{kind.extension}"
