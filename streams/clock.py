"""The default clock of the frame sources: aware UTC now (tests inject their own)."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
