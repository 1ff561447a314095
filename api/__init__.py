"""The central service: MQTT ingest, storage, HTTP API, live alert stream and web pages.

Exceptions: ApiError
    ├── StorageError          the database refused or could not be reached (`transient` says which)
    ├── NotFoundError         no such object, or none the caller may see (404)
    ├── ConflictError         exists already, or differs from the earlier upload (409)
    ├── InvalidRequestError   input refused, naming the field (422)
    ├── TransitionError       a review action the case's state does not allow (409)
    ├── EvidenceError         an upload refused (413 / 415 / 422)
    └── WeakPasswordError     a password too short to accept
"""

from api.errors import (
    ApiError,
    ConflictError,
    EvidenceError,
    InvalidRequestError,
    NotFoundError,
    StorageError,
    TransitionError,
)

__all__ = [
    "ApiError",
    "ConflictError",
    "EvidenceError",
    "InvalidRequestError",
    "NotFoundError",
    "StorageError",
    "TransitionError",
]
