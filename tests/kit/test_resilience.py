"""The circuit breaker: a single probe per pause, so a recovered vendor is found within seconds."""

from __future__ import annotations

import random

from carpulse.kit.resilience import CircuitBreaker, spaced_delay


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _opened(clock: Clock) -> CircuitBreaker:
    breaker = CircuitBreaker(window=4, min_calls=2, failure_ratio=0.5, reset_seconds=5, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.refuses()
    return breaker


class TestProbe:
    def test_one_caller_probes_after_the_pause_and_the_others_keep_waiting(self) -> None:
        clock = Clock()
        breaker = _opened(clock)
        clock.now = 5.0
        assert not breaker.refuses()  # the probe
        assert [breaker.refuses() for _ in range(10)] == [True] * 10  # everyone else waits for its outcome
        assert breaker.retry_after() == 5.0

    def test_a_successful_probe_closes_it_for_everyone(self) -> None:
        clock = Clock()
        breaker = _opened(clock)
        clock.now = 5.0
        assert not breaker.refuses()
        breaker.record_success()
        assert [breaker.refuses() for _ in range(10)] == [False] * 10

    def test_a_failed_probe_pauses_again_and_a_lost_one_is_replaced_after_a_pause(self) -> None:
        clock = Clock()
        breaker = _opened(clock)
        clock.now = 5.0
        assert not breaker.refuses()
        breaker.record_failure()
        clock.now = 9.0
        assert breaker.refuses()
        clock.now = 10.0
        assert not breaker.refuses()  # the next probe
        # That probe's outcome never came (its caller was cancelled): another probe one pause later.
        clock.now = 15.0
        assert not breaker.refuses()


class TestSpacedDelay:
    def test_doubles_up_to_the_cap_and_never_less_than_half(self) -> None:
        rng = random.Random(1)
        for attempt, ceiling in [(0, 5.0), (1, 10.0), (2, 20.0), (3, 30.0), (9, 30.0)]:
            delays = [spaced_delay(attempt, 5.0, 30.0, rng) for _ in range(200)]
            assert min(delays) >= ceiling / 2
            assert max(delays) <= ceiling
