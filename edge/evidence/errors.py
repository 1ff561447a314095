"""Errors of the evidence package; the hierarchy is in edge/evidence/__init__.py."""

from edge.errors import EdgeError


class EvidenceError(EdgeError):
    """Base of every error the evidence package raises on purpose."""


class StoreError(EvidenceError):
    """The evidence directory or its SQLite index cannot be opened, read or written."""


class QuotaExceededError(StoreError):
    """New evidence refused: only unacknowledged (or parked) files fill the quota."""


class ClipError(EvidenceError):
    """A clip cannot be encoded: no frames in the window, or the encoder failed."""
