"""MQTT ingest: validate every message from the edges, store it once, announce new violations.

`IngestHandler` decides what one message means (no network, unit-tested with plain bytes);
`MqttIngest` owns the paho client, the persistent session and acknowledging after storage.
"""

from api.clock import utc_now
from api.ingest.handler import (
    HandleResult,
    IngestCounters,
    IngestCounts,
    IngestHandler,
    IngestStore,
    Outcome,
    RejectReason,
)
from api.ingest.mqtt import MqttIngest

__all__ = [
    "HandleResult",
    "IngestCounters",
    "IngestCounts",
    "IngestHandler",
    "IngestStore",
    "MqttIngest",
    "Outcome",
    "RejectReason",
    "utc_now",
]
