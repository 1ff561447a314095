"""Clock: the injected source of "now" (aware UTC), so deadlines and expiry are testable."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
