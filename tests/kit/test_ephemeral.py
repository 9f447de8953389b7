"""The ephemeral store: the in-process and the Redis implementation answer the same tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from carpulse.kit.clock import FrozenClock
from carpulse.kit.ephemeral import EphemeralStore, MemoryEphemeralStore, RedisEphemeralStore
from tests.conftest import REDIS_URL, delete_redis_prefix
from tests.redis_server import RedisServer


@dataclass
class Harness:
    """A store plus a way to let time pass for it (a frozen clock, or real time for Redis)."""

    store: EphemeralStore
    elapse: Callable[[float], Awaitable[None]]


@asynccontextmanager
async def _open_memory() -> AsyncIterator[Harness]:
    clock = FrozenClock()

    async def elapse(seconds: float) -> None:
        clock.advance(seconds)

    store = MemoryEphemeralStore(clock=clock)
    try:
        yield Harness(store, elapse)
    finally:
        await store.close()


@asynccontextmanager
async def _open_redis(prefix: str) -> AsyncIterator[Harness]:
    store = RedisEphemeralStore.from_url(REDIS_URL, prefix=prefix, timeout_seconds=1.0)
    try:
        yield Harness(store, asyncio.sleep)
    finally:
        await delete_redis_prefix(prefix)
        await store.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.server)])
async def harness(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[Harness]:
    opener = _open_memory() if request.param == "memory" else _open_redis(redis_prefix)
    async with opener as opened:
        yield opened


# Long enough for Redis to keep a key through a few round trips, short enough to wait out.
SHORT_TTL = 0.2
WAIT_OUT_SHORT_TTL = 0.3


class TestGetSetDelete:
    async def test_missing_key_reads_as_none(self, harness: Harness) -> None:
        assert await harness.store.get("nothing-here") is None

    async def test_set_then_get_returns_the_value(self, harness: Harness) -> None:
        await harness.store.set("greeting", b"hello")

        assert await harness.store.get("greeting") == b"hello"

    async def test_set_overwrites_the_previous_value(self, harness: Harness) -> None:
        await harness.store.set("counter", b"1")
        await harness.store.set("counter", b"2")

        assert await harness.store.get("counter") == b"2"

    async def test_delete_removes_the_key_and_reports_it(self, harness: Harness) -> None:
        await harness.store.set("doomed", b"x")

        assert await harness.store.delete("doomed") is True
        assert await harness.store.get("doomed") is None

    async def test_delete_of_a_missing_key_reports_false(self, harness: Harness) -> None:
        assert await harness.store.delete("never-set") is False

    async def test_keys_are_independent(self, harness: Harness) -> None:
        await harness.store.set("a", b"1")
        await harness.store.set("b", b"2")
        await harness.store.delete("a")

        assert await harness.store.get("a") is None
        assert await harness.store.get("b") == b"2"


class TestValueTypes:
    async def test_str_values_are_stored_as_utf8_bytes(self, harness: Harness) -> None:
        await harness.store.set("name", "Jürgen ✓")

        assert await harness.store.get("name") == "Jürgen ✓".encode()

    async def test_arbitrary_bytes_survive_unchanged(self, harness: Harness) -> None:
        payload = bytes(range(256))
        await harness.store.set("blob", payload)

        assert await harness.store.get("blob") == payload

    async def test_empty_value_is_distinct_from_missing(self, harness: Harness) -> None:
        await harness.store.set("empty", b"")

        assert await harness.store.get("empty") == b""

    async def test_take_and_set_if_absent_accept_str_too(self, harness: Harness) -> None:
        assert await harness.store.set_if_absent("state", "öauth") is True

        assert await harness.store.take("state") == "öauth".encode()


class TestExpiry:
    async def test_value_is_readable_before_its_ttl(self, harness: Harness) -> None:
        await harness.store.set("session", b"s", ttl_seconds=60)
        await harness.elapse(0.05)

        assert await harness.store.get("session") == b"s"

    async def test_value_disappears_after_its_ttl(self, harness: Harness) -> None:
        await harness.store.set("session", b"s", ttl_seconds=SHORT_TTL)
        await harness.elapse(WAIT_OUT_SHORT_TTL)

        assert await harness.store.get("session") is None
        assert await harness.store.take("session") is None
        assert await harness.store.delete("session") is False
        assert await harness.store.ttl("session") is None

    async def test_value_without_ttl_does_not_expire(self, harness: Harness) -> None:
        await harness.store.set("forever", b"f")
        await harness.elapse(WAIT_OUT_SHORT_TTL)

        assert await harness.store.get("forever") == b"f"

    async def test_set_without_ttl_clears_an_earlier_ttl(self, harness: Harness) -> None:
        await harness.store.set("k", b"1", ttl_seconds=SHORT_TTL)
        await harness.store.set("k", b"2")
        await harness.elapse(WAIT_OUT_SHORT_TTL)

        assert await harness.store.get("k") == b"2"
        assert await harness.store.ttl("k") is None

    async def test_set_if_absent_honours_its_ttl(self, harness: Harness) -> None:
        assert await harness.store.set_if_absent("lock", b"me", ttl_seconds=SHORT_TTL) is True
        await harness.elapse(WAIT_OUT_SHORT_TTL)

        assert await harness.store.get("lock") is None


class TestTtl:
    async def test_missing_key_has_no_ttl(self, harness: Harness) -> None:
        assert await harness.store.ttl("nothing-here") is None

    async def test_key_without_expiry_has_no_ttl(self, harness: Harness) -> None:
        await harness.store.set("forever", b"f")

        assert await harness.store.ttl("forever") is None

    async def test_ttl_reports_the_seconds_left(self, harness: Harness) -> None:
        await harness.store.set("session", b"s", ttl_seconds=60)

        left = await harness.store.ttl("session")

        assert left is not None
        assert 59 < left <= 60

    async def test_ttl_counts_down(self, harness: Harness) -> None:
        await harness.store.set("session", b"s", ttl_seconds=60)
        await harness.elapse(0.2)

        left = await harness.store.ttl("session")

        assert left is not None
        assert left < 59.9

    async def test_fractional_ttl_is_kept(self, harness: Harness) -> None:
        await harness.store.set("short", b"s", ttl_seconds=1.5)

        left = await harness.store.ttl("short")

        assert left is not None
        assert 1.0 < left <= 1.5


class TestSetIfAbsent:
    async def test_first_call_stores(self, harness: Harness) -> None:
        assert await harness.store.set_if_absent("once", b"first") is True
        assert await harness.store.get("once") == b"first"

    async def test_second_call_keeps_the_first_value(self, harness: Harness) -> None:
        await harness.store.set_if_absent("once", b"first")

        assert await harness.store.set_if_absent("once", b"second") is False
        assert await harness.store.get("once") == b"first"

    async def test_key_is_free_again_after_expiry(self, harness: Harness) -> None:
        await harness.store.set_if_absent("once", b"first", ttl_seconds=SHORT_TTL)
        await harness.elapse(WAIT_OUT_SHORT_TTL)

        assert await harness.store.set_if_absent("once", b"second") is True
        assert await harness.store.get("once") == b"second"

    async def test_exactly_one_of_many_racing_callers_wins(self, harness: Harness) -> None:
        values = [f"caller-{i}".encode() for i in range(20)]

        stored = await asyncio.gather(*(harness.store.set_if_absent("race", value) for value in values))

        assert stored.count(True) == 1
        winner = values[stored.index(True)]
        assert await harness.store.get("race") == winner


class TestAddToExisting:
    async def test_a_missing_counter_is_not_created(self, harness: Harness) -> None:
        assert await harness.store.add_to_existing("counter", 1) is None
        assert await harness.store.get("counter") is None

    async def test_adds_and_subtracts_keeping_the_expiry(self, harness: Harness) -> None:
        await harness.store.set_if_absent("counter", "40", ttl_seconds=60)

        assert await harness.store.add_to_existing("counter", 3) == 43
        assert await harness.store.add_to_existing("counter", -1) == 42
        remaining = await harness.store.ttl("counter")
        assert remaining is not None
        assert 50 < remaining <= 60

    async def test_racing_adds_all_count(self, harness: Harness) -> None:
        await harness.store.set("counter", "0")

        totals = await asyncio.gather(*(harness.store.add_to_existing("counter", 1) for _ in range(50)))

        assert sorted(total for total in totals if total is not None) == list(range(1, 51))

    async def test_an_expired_counter_is_missing_again(self, harness: Harness) -> None:
        await harness.store.set("counter", "5", ttl_seconds=SHORT_TTL)
        await harness.elapse(WAIT_OUT_SHORT_TTL)

        assert await harness.store.add_to_existing("counter", 1) is None


class TestTake:
    async def test_take_returns_the_value_and_removes_it(self, harness: Harness) -> None:
        await harness.store.set("code", b"single-use")

        assert await harness.store.take("code") == b"single-use"
        assert await harness.store.get("code") is None

    async def test_second_take_gets_nothing(self, harness: Harness) -> None:
        await harness.store.set("code", b"single-use")
        await harness.store.take("code")

        assert await harness.store.take("code") is None

    async def test_take_of_a_missing_key_is_none(self, harness: Harness) -> None:
        assert await harness.store.take("never-set") is None

    async def test_exactly_one_of_twenty_racing_takers_gets_the_value(self, harness: Harness) -> None:
        await harness.store.set("oauth-state", b"xyz")

        results = await asyncio.gather(*(harness.store.take("oauth-state") for _ in range(20)))

        assert results.count(b"xyz") == 1
        assert results.count(None) == 19


class TestPing:
    async def test_ping_of_a_working_store_succeeds(self, harness: Harness) -> None:
        assert await harness.store.ping() is None

    async def test_redis_store_on_a_closed_port_raises_on_ping(self) -> None:
        store = RedisEphemeralStore.from_url("redis://127.0.0.1:1/0", prefix="unused:", timeout_seconds=0.2)
        try:
            with pytest.raises(RedisConnectionError):
                await store.ping()
        finally:
            await store.close()


@pytest.mark.server
class TestRedisPrefix:
    @pytest.fixture
    async def other_prefix(self) -> AsyncIterator[str]:
        prefix = f"carpulse-test:{uuid.uuid4().hex}:"
        yield prefix
        await delete_redis_prefix(prefix)

    async def test_keys_are_written_under_the_prefix(self, redis_prefix: str) -> None:
        raw = Redis.from_url(REDIS_URL)
        store = RedisEphemeralStore(raw, prefix=redis_prefix)
        try:
            await store.set("session:1", b"v")

            assert await raw.get(f"{redis_prefix}session:1") == b"v"
            assert await raw.get("session:1") is None
        finally:
            await delete_redis_prefix(redis_prefix)
            await store.close()

    async def test_stores_with_different_prefixes_do_not_see_each_other(
        self, redis_prefix: str, other_prefix: str
    ) -> None:
        first = RedisEphemeralStore.from_url(REDIS_URL, prefix=redis_prefix)
        second = RedisEphemeralStore.from_url(REDIS_URL, prefix=other_prefix)
        try:
            await first.set("shared-name", b"first")

            assert await second.get("shared-name") is None
            assert await second.take("shared-name") is None
            assert await second.delete("shared-name") is False
            assert await second.set_if_absent("shared-name", b"second") is True
            assert await first.get("shared-name") == b"first"
            assert await second.get("shared-name") == b"second"
        finally:
            await delete_redis_prefix(redis_prefix)
            await first.close()
            await second.close()


class TestMemoryEviction:
    async def test_the_oldest_key_is_dropped_when_full(self) -> None:
        store = MemoryEphemeralStore(clock=FrozenClock(), max_keys=10)
        for i in range(10):
            await store.set(f"k{i}", b"v")

        await store.set("k10", b"v")

        assert await store.get("k0") is None
        assert all([await store.get(f"k{i}") == b"v" for i in range(1, 11)])

    async def test_expired_keys_go_before_live_ones(self) -> None:
        clock = FrozenClock()
        store = MemoryEphemeralStore(clock=clock, max_keys=10)
        for i in range(9):
            await store.set(f"live{i}", b"v")
        await store.set("short-lived", b"v", ttl_seconds=5)
        clock.advance(10)

        await store.set("new", b"v")

        assert all([await store.get(f"live{i}") == b"v" for i in range(9)])
        assert await store.get("new") == b"v"

    async def test_the_store_never_holds_more_than_max_keys(self) -> None:
        store = MemoryEphemeralStore(clock=FrozenClock(), max_keys=10)
        for i in range(50):
            await store.set(f"k{i}", b"v")

        alive = [i for i in range(50) if await store.get(f"k{i}") is not None]

        assert 0 < len(alive) <= 10
        assert 49 in alive

    async def test_set_if_absent_also_evicts_when_full(self) -> None:
        store = MemoryEphemeralStore(clock=FrozenClock(), max_keys=3)
        for i in range(3):
            await store.set(f"k{i}", b"v")

        assert await store.set_if_absent("extra", b"v") is True
        assert await store.get("k0") is None
        assert await store.get("extra") == b"v"


@pytest.mark.server
class TestTakeUnderAStall:
    async def test_a_take_that_timed_out_fails_and_keeps_the_value(self, redis_server: RedisServer) -> None:
        """Redis stalls past the client's timeout: the take fails (the app answers 503) and is not sent
        again, so a sign-in's state is neither reported "already used" nor lost; the next try gets it.
        (Seen in CI: a callback stalled 6.3 s, the retried GETDEL read nil, the sign-in was refused.)"""
        store = RedisEphemeralStore.from_url(redis_server.url, prefix="stall:", timeout_seconds=0.3)
        admin = Redis.from_url(redis_server.url)
        try:
            await store.set("state", b"s1", ttl_seconds=60)
            await admin.execute_command("CLIENT", "PAUSE", "500", "WRITE")
            started = asyncio.get_running_loop().time()
            with pytest.raises(RedisTimeoutError):
                await store.take("state")
            assert asyncio.get_running_loop().time() - started < 0.5  # one try, not a second one queued behind it
            await asyncio.sleep(0.4)
            assert await store.take("state") == b"s1"
        finally:
            await store.close()
            await admin.aclose()
