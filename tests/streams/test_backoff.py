"""Reconnect delays grow exponentially up to a cap, jittered downwards only."""

import random

import pytest

from streams.backoff import Backoff


def test_without_jitter_delays_double_up_to_the_cap() -> None:
    backoff = Backoff(0.5, 30.0, jitter=0.0)
    delays = [backoff.next_delay_s() for _ in range(10)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]


def test_jitter_shortens_each_delay_by_at_most_its_fraction() -> None:
    backoff = Backoff(0.5, 30.0, jitter=0.2, rng=random.Random(1))
    bases = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    delays = [backoff.next_delay_s() for _ in bases]
    assert all(0.8 * base <= delay <= base for delay, base in zip(delays, bases, strict=True))
    assert len(set(delays[-2:])) == 2  # capped delays still differ: reconnects spread out


def test_reset_starts_over() -> None:
    backoff = Backoff(0.5, 30.0, jitter=0.0)
    for _ in range(5):
        backoff.next_delay_s()
    assert backoff.attempt == 5
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.next_delay_s() == 0.5


def test_many_failures_do_not_overflow() -> None:
    backoff = Backoff(0.5, 30.0, jitter=0.0)
    for _ in range(5000):
        delay = backoff.next_delay_s()
    assert delay == 30.0


@pytest.mark.parametrize(
    ("initial_s", "max_s", "factor", "jitter", "names"),
    [
        (0.0, 1.0, 2.0, 0.2, "initial_s"),
        (2.0, 1.0, 2.0, 0.2, "max_s"),
        (0.5, 1.0, 0.5, 0.2, "factor"),
        (0.5, 1.0, 2.0, 1.0, "jitter"),
    ],
)
def test_rejects_bad_settings_naming_them(
    initial_s: float, max_s: float, factor: float, jitter: float, names: str
) -> None:
    with pytest.raises(ValueError, match=names):
        Backoff(initial_s, max_s, factor=factor, jitter=jitter)
