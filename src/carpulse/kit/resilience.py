"""Retries with jittered backoff and a circuit breaker, for calls to vendors."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable


def backoff_delay(attempt: int, base: float = 0.25, cap: float = 4.0, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(cap, base * (2**attempt))
    return (rng or random).uniform(0, ceiling)


def spaced_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Equal-jitter exponential backoff, for scheduling the next try: in [ceiling / 2, ceiling] with
    ceiling = min(cap, base * 2**attempt), so tries are spread out but never come at once."""
    ceiling = min(cap, base * 2.0 ** max(0, attempt))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


class CircuitBreaker:
    """Opens when most recent calls failed, so a vendor outage is not hammered; every
    `reset_seconds` one probe goes through (the others keep waiting), and its outcome closes or
    re-opens the circuit. A short pause with a single probe finds a recovered vendor within seconds
    and costs a failing one a call per pause.

    A failure rate over a window (not a run of consecutive failures) keeps a few unlucky retries
    of one request from cutting every user off.
    """

    def __init__(
        self,
        window: int = 50,
        min_calls: int = 20,
        failure_ratio: float = 0.6,
        reset_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.outcomes: deque[bool] = deque(maxlen=window)
        self.min_calls = min_calls
        self.failure_ratio = failure_ratio
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.opened_at: float | None = None

    @property
    def is_open(self) -> bool:
        if self.opened_at is None:
            return False
        # Half-open once the pause is over: the next call is the probe.
        return self.clock() - self.opened_at < self.reset_seconds

    def refuses(self) -> bool:
        """Whether to refuse this call: True while paused; once a pause is over, the first caller is
        the probe (False) and the pause starts again for everyone else until its outcome is known."""
        if self.opened_at is None:
            return False
        if self.is_open:
            return True
        self.opened_at = self.clock()
        return False

    def retry_after(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.reset_seconds - (self.clock() - self.opened_at))

    def record_success(self) -> None:
        if self.opened_at is not None:
            self.opened_at = None
            self.outcomes.clear()
        self.outcomes.append(True)

    def record_failure(self) -> None:
        if self.opened_at is not None:
            self.opened_at = self.clock()  # the probe failed: pause again
            return
        self.outcomes.append(False)
        failures = self.outcomes.count(False)
        if len(self.outcomes) >= self.min_calls and failures / len(self.outcomes) >= self.failure_ratio:
            self.opened_at = self.clock()


class CircuitBreakers:
    """One breaker per name (a vendor's region, say)."""

    def __init__(self, **options: float | Callable[[], float]) -> None:
        self.options = options
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, name: str) -> CircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = self._breakers[name] = CircuitBreaker(**self.options)  # type: ignore[arg-type]
        return breaker
