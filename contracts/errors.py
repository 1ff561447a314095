"""Errors raised when a topic or a payload does not follow the contract."""


class ContractError(Exception):
    """Base of every contract violation; `reason` is a short code fit for a metric label."""

    reason = "contract"


class TopicError(ContractError):
    """A topic outside our scheme, or with an identifier that is not allowed."""

    reason = "topic"


class PayloadError(ContractError):
    """Bytes that do not decode to the expected message."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
