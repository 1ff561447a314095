"""Waiting for a condition with a deadline, for the threaded stream tests."""

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Return once predicate() holds; fail the test after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.02)
