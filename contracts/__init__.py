"""The edge <-> API agreement: MQTT topics, message payloads and their encoding.

Exceptions: ContractError
    ├── TopicError     a topic that is not ours or carries a bad identifier
    └── PayloadError   bytes that are not a valid message of the expected type
"""

from contracts.errors import ContractError, PayloadError, TopicError
from contracts.identifiers import IDENTIFIER_PATTERN, Identifier, is_identifier
from contracts.messages import (
    SCHEMA_VERSION,
    CameraState,
    CameraStatus,
    EdgeState,
    EdgeStatus,
    NormalizedBox,
    ViolationEnd,
    ViolationEvent,
    ViolationKind,
    decode_status,
    decode_violation,
    decode_violation_end,
    encode,
)
from contracts.topics import (
    STATUS_SUBSCRIPTION,
    TOPIC_ROOT,
    VIOLATION_END_SUBSCRIPTION,
    VIOLATION_SUBSCRIPTION,
    Channel,
    TopicAddress,
    parse_topic,
    status_topic,
    violation_end_topic,
    violation_topic,
)

__all__ = [
    "IDENTIFIER_PATTERN",
    "SCHEMA_VERSION",
    "STATUS_SUBSCRIPTION",
    "TOPIC_ROOT",
    "VIOLATION_END_SUBSCRIPTION",
    "VIOLATION_SUBSCRIPTION",
    "CameraState",
    "CameraStatus",
    "Channel",
    "ContractError",
    "EdgeState",
    "EdgeStatus",
    "Identifier",
    "NormalizedBox",
    "PayloadError",
    "TopicAddress",
    "TopicError",
    "ViolationEnd",
    "ViolationEvent",
    "ViolationKind",
    "decode_status",
    "decode_violation",
    "decode_violation_end",
    "encode",
    "is_identifier",
    "parse_topic",
    "status_topic",
    "violation_end_topic",
    "violation_topic",
]
