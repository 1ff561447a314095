"""Exponential, capped, jittered delays between attempts to reopen a source."""

import random


class Backoff:
    """Delay n (from 0) is min(max_s, initial_s * factor**n), shortened by up to jitter of itself.

    Jitter spreads the reconnects of many cameras that lost the same server; shortening (never
    lengthening) keeps every delay within max_s.
    """

    def __init__(
        self,
        initial_s: float,
        max_s: float,
        *,
        factor: float = 2.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        if initial_s <= 0:
            raise ValueError(f"backoff initial_s must be positive, got {initial_s}")
        if max_s < initial_s:
            raise ValueError(f"backoff max_s ({max_s}) must be >= initial_s ({initial_s})")
        if factor < 1:
            raise ValueError(f"backoff factor must be >= 1, got {factor}")
        if not 0 <= jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {jitter}")
        self._initial_s = initial_s
        self._max_s = max_s
        self._factor = factor
        self._jitter = jitter
        self._rng = rng if rng is not None else random.Random()
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """How many delays were handed out since the last reset."""
        return self._attempt

    def next_delay_s(self) -> float:
        # cap the exponent too: factor**attempt overflows a float after ~1000 failed attempts
        exponent = min(self._attempt, 64)
        base_s = min(self._max_s, self._initial_s * self._factor**exponent)
        self._attempt += 1
        return base_s * (1.0 - self._jitter * self._rng.random())

    def reset(self) -> None:
        self._attempt = 0
