"""Versioned payloads on the wire: ViolationEvent and EdgeStatus, and their JSON encoding."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, Self, TypeVar
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from contracts.errors import PayloadError
from contracts.identifiers import Identifier

SCHEMA_VERSION: Literal[1] = 1


class ViolationKind(StrEnum):
    """The violation catalogue of ../shared/DOMAIN.md; the first four are required."""

    NO_HAT = "no_hat"
    NO_MASK = "no_mask"
    RODENT = "rodent"
    UNCOVERED_FOOD = "uncovered_food"
    SMOKING = "smoking"
    NO_UNIFORM = "no_uniform"
    PHONE = "phone"
    INTRUSION = "intrusion"
    BIN_OPEN = "bin_open"
    CAMERA_OFFLINE = "camera_offline"
    CAMERA_FROZEN = "camera_frozen"
    CAMERA_BLURRED_OR_COVERED = "camera_blurred_or_covered"


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class NormalizedBox(_Message):
    """A detection box in 0..1 frame coordinates, so it survives a change of resolution."""

    label: str = Field(min_length=1, max_length=64)
    confidence: float = Field(ge=0.0, le=1.0)
    x1: float = Field(ge=0.0, le=1.0)
    y1: float = Field(ge=0.0, le=1.0)
    x2: float = Field(ge=0.0, le=1.0)
    y2: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.x2 < self.x1 or self.y2 < self.y1:
            raise ValueError("box corners must satisfy x1 <= x2 and y1 <= y2")
        return self


class ViolationEvent(_Message):
    """One violation seen by an edge; its edge-made `violation_id` makes ingest idempotent."""

    schema_version: Literal[1] = SCHEMA_VERSION
    violation_id: UUID
    site: Identifier
    edge: Identifier
    camera: Identifier
    rule: Identifier
    kind: ViolationKind
    severity: int = Field(ge=1, le=3, description="1 immediate, 2 rectify by a deadline, 3 routine")
    confidence: float = Field(ge=0.0, le=1.0)
    boxes: tuple[NormalizedBox, ...] = Field(default=(), max_length=256)
    zone: Identifier | None = None
    occurred_at: AwareDatetime
    has_snapshot: bool = False
    has_clip: bool = False
    # the tracked target (person, rodent, container) the incident belongs to, when the rule tracks
    track_id: int | None = Field(default=None, ge=0)
    # how many targets the incident covers (rodents are counted); 1 for everything else
    count: int = Field(default=1, ge=1, le=10_000)

    _utc = field_validator("occurred_at")(_to_utc)


class ViolationEnd(_Message):
    """The end of an incident that a ViolationEvent started: the condition no longer holds."""

    schema_version: Literal[1] = SCHEMA_VERSION
    violation_id: UUID
    site: Identifier
    edge: Identifier
    camera: Identifier
    ended_at: AwareDatetime
    duration_s: float = Field(ge=0.0)
    max_count: int = Field(default=1, ge=1, le=10_000)

    _utc = field_validator("ended_at")(_to_utc)


class EdgeState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class CameraState(StrEnum):
    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"
    FROZEN = "frozen"  # frames arrive but do not change
    BLURRED_OR_COVERED = "blurred_or_covered"  # frames arrive but show nothing useful


class CameraStatus(_Message):
    state: CameraState
    since: AwareDatetime

    _utc = field_validator("since")(_to_utc)


class EdgeStatus(_Message):
    """Retained per edge; the broker publishes an offline one as the edge's last will."""

    schema_version: Literal[1] = SCHEMA_VERSION
    site: Identifier
    edge: Identifier
    state: EdgeState
    reported_at: AwareDatetime
    cameras: dict[Identifier, CameraStatus] = Field(default_factory=dict, max_length=1024)

    _utc = field_validator("reported_at")(_to_utc)


_M = TypeVar("_M", bound=_Message)


def encode(message: ViolationEvent | ViolationEnd | EdgeStatus) -> bytes:
    return message.model_dump_json().encode()


def _decode(model: type[_M], payload: bytes) -> _M:
    try:
        return model.model_validate_json(payload)
    except ValidationError as err:
        kinds = {error["type"] for error in err.errors()}
        reason = "malformed_json" if "json_invalid" in kinds else "schema"
        raise PayloadError(f"invalid {model.__name__}: {err}", reason=reason) from err


def decode_violation(payload: bytes) -> ViolationEvent:
    return _decode(ViolationEvent, payload)


def decode_violation_end(payload: bytes) -> ViolationEnd:
    return _decode(ViolationEnd, payload)


def decode_status(payload: bytes) -> EdgeStatus:
    return _decode(EdgeStatus, payload)
