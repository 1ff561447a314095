"""Errors raised by the central service."""


class ApiError(Exception):
    """Base of every error the API package raises on purpose."""


class StorageError(ApiError):
    """A database operation failed; `transient` is True when retrying later may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class NotFoundError(ApiError):
    """No such object, or not one the caller may see (the two answer alike: 404)."""


class ConflictError(ApiError):
    """The object exists already, or differs from what was sent before (409)."""


class InvalidRequestError(ApiError):
    """Input that names the offending field and why it is refused (422)."""


class TransitionError(ApiError):
    """A review action that the case's current state does not allow (409)."""


class EvidenceError(ApiError):
    """An upload refused: too large, the wrong type or a checksum that does not match."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code
