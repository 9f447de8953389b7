"""Jobs on taskiq: an in-memory broker on the embedded default, Redis streams (acknowledged) in production.

A job is `async def job(state, **ids)`, registered by name with `@job("domain.event")`. Jobs carry
ids only and are enqueued after the transaction that created their work commits, so a job never
sees uncommitted rows; handlers are idempotent because delivery is at-least-once. The queue is a
trigger, not the truth: reconcilers find work whose job was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends

from carpulse.kit.ephemeral import redis_connection_options
from carpulse.kit.logs import get_logger
from carpulse.kit.resilience import backoff_delay

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.worker")

JobFunction = Callable[..., Awaitable[None]]
_JOBS: dict[str, JobFunction] = {}
_PENDING_KEY = "carpulse.pending_jobs"


def job(name: str) -> Callable[[JobFunction], JobFunction]:
    """Register `async def fn(state: State, **ids)` as the job `name`."""

    def register(fn: JobFunction) -> JobFunction:
        _JOBS[name] = fn
        return fn

    return register


def registered_jobs() -> dict[str, JobFunction]:
    return dict(_JOBS)


def create_broker(
    redis_url: str | None,
    queue_name: str = "carpulse-jobs",
    *,
    prefetch: int = 1,
    claim_idle_seconds: float = 30.0,
    socket_timeout_seconds: float = 5.0,
) -> AsyncBroker:
    if redis_url:
        return _stream_broker(redis_url, queue_name, prefetch, claim_idle_seconds, socket_timeout_seconds)
    # Exceptions stay inside the job runner (logged), as they would on a worker process.
    return InMemoryBroker(propagate_exceptions=False)


def bind_jobs(broker: AsyncBroker) -> None:
    """Register every job on this broker; each reads the app's `State` from the broker's state."""
    for name, fn in _JOBS.items():
        broker.register_task(_runner(name, fn), task_name=name)


def _runner(name: str, fn: JobFunction) -> Callable[..., Awaitable[None]]:
    async def run(ids: dict[str, Any], context: Context = TaskiqDepends()) -> None:  # noqa: B008 - taskiq's DI
        state = context.state.carpulse
        try:
            await fn(state, **ids)
        except Exception:
            log.exception("worker.job_failed", job=name)
            raise

    run.__name__ = name.replace(".", "_")
    return run


REDIS_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OSError)
XREAD_BLOCK_MS = 2000


def _stream_broker(
    redis_url: str, queue_name: str, prefetch: int, claim_idle_seconds: float, socket_timeout_seconds: float
) -> AsyncBroker:
    from redis.asyncio import Redis
    from redis.exceptions import ResponseError
    from taskiq import AckableMessage, BrokerMessage
    from taskiq_redis import RedisStreamBroker

    class StreamBroker(RedisStreamBroker):
        """taskiq's stream broker with one Redis client kept for sending (its own `kick` builds a
        client per message, a third of the CPU a webhook costs the API), a consumer group recreated
        whenever Redis lost it, and dead consumers' messages claimed on every round, not only after
        new messages arrived as taskiq-redis does."""

        _sender: Redis | None = None

        def __init__(self) -> None:
            super().__init__(
                redis_url,
                queue_name=queue_name,
                consumer_group_name="carpulse",
                # From the stream's start: a group created after jobs were queued (first start, or
                # Redis restarted and a replica queued before the worker came back) skips none.
                consumer_id="0",
                xread_block=XREAD_BLOCK_MS,
                xread_count=prefetch,
                idle_timeout=int(claim_idle_seconds * 1000),
                unacknowledged_batch_size=prefetch,
                # xreadgroup blocks on the socket for up to XREAD_BLOCK_MS before answering.
                **redis_connection_options(socket_timeout_seconds + XREAD_BLOCK_MS / 1000),
            )
            self.in_flight: set[bytes] = set()

        def _client(self) -> Redis:
            if self._sender is None:
                self._sender = Redis(connection_pool=self.connection_pool)
            return self._sender

        async def kick(self, message: BrokerMessage) -> None:
            await self._client().xadd(
                message.labels.get("queue_name") or self.queue_name,
                {b"data": message.message},
                maxlen=self.maxlen,
                approximate=self.approximate,
            )

        async def declare_group(self) -> None:
            try:
                await self._client().xgroup_create(
                    self.queue_name, self.consumer_group_name, id=self.consumer_id, mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

        async def _declare_consumer_group(self) -> None:
            # Not at startup: an API replica that only sends must start while Redis is down, and
            # `consume` declares the group before every (re)connection.
            return None

        def _ackable(self, message_id: bytes, fields: dict[bytes, bytes]) -> AckableMessage:
            self.in_flight.add(message_id)

            async def ack() -> None:
                await self._client().xack(self.queue_name, self.consumer_group_name, message_id)
                self.in_flight.discard(message_id)

            return AckableMessage(data=fields[b"data"], ack=ack)

        async def listen(self) -> AsyncGenerator[AckableMessage, None]:
            redis = self._client()
            while True:
                try:
                    claimed = await redis.xautoclaim(
                        self.queue_name,
                        self.consumer_group_name,
                        self.consumer_name,
                        min_idle_time=self.idle_timeout,
                        count=self.unacknowledged_batch_size,
                    )
                    for message_id, fields in claimed[1]:
                        if fields:  # a claimed entry trimmed from the stream has no fields
                            log.info("worker.message_claimed", message_id=message_id.decode())
                            yield self._ackable(message_id, fields)
                    fetched: list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] = await redis.xreadgroup(
                        self.consumer_group_name,
                        self.consumer_name,
                        {self.queue_name: ">"},
                        block=self.block,
                        count=self.count,
                    )  # type: ignore[assignment]  # redis-py types the reply loosely
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    # Redis came back empty: the stream and the group are gone.
                    await self.declare_group()
                    log.warning("worker.group_recreated", queue=self.queue_name)
                    continue
                for _stream, messages in fetched or ():
                    for message_id, fields in messages:
                        yield self._ackable(message_id, fields)

        async def keep_claimed(self) -> None:
            """Reset the idle time of the messages this worker is running, so that only a dead
            worker's messages grow idle enough for another worker to claim."""
            if not self.in_flight:
                return
            sent: list[Any] = list(self.in_flight)
            kept = await self._client().xclaim(
                self.queue_name,
                self.consumer_group_name,
                self.consumer_name,
                min_idle_time=0,
                message_ids=sent,
                justid=True,
            )
            # Ids Redis no longer has (it restarted empty) are not refreshed again.
            self.in_flight -= set(sent) - set(kept)

        async def shutdown(self) -> None:
            if self._sender is not None:
                await self._sender.aclose(close_connection_pool=False)
                self._sender = None
            await super().shutdown()

    return StreamBroker()


async def consume(broker: AsyncBroker, *, concurrency: int, prefetch: int, claim_idle_seconds: float) -> None:
    """Run the broker's jobs until cancelled. When Redis goes away, reconnect with capped, jittered
    backoff and log one line per outage (taskiq's own loop retries at once, with a traceback each
    time); the group is recreated when Redis came back without it."""
    from taskiq.receiver import Receiver

    declare_group = getattr(broker, "declare_group", None)
    attempt = 0
    outage_started: float | None = None
    keeper = asyncio.create_task(_keep_claimed(broker, claim_idle_seconds / 3))
    broker.is_worker_process = True
    finished = asyncio.Event()

    def on_exit(_: Receiver) -> None:
        finished.set()

    try:
        while True:
            try:
                if declare_group is not None:
                    await declare_group()
                if outage_started is not None:
                    log.info("worker.redis_recovered", outage_seconds=round(time.monotonic() - outage_started, 1))
                    outage_started, attempt = None, 0
                receiver = Receiver(
                    broker,
                    max_async_tasks=concurrency,
                    max_prefetch=prefetch - 1,
                    propagate_exceptions=False,
                    run_startup=False,
                    on_exit=on_exit,
                )
                await receiver.listen(asyncio.Event())
            except Exception as exc:
                failure = _redis_failure(exc)
                if failure is None:
                    log.exception("worker.receiver_failed")
                elif outage_started is None:
                    outage_started = time.monotonic()
                    log.warning("worker.redis_unavailable", error=type(failure).__name__, detail=str(failure))
                await asyncio.sleep(backoff_delay(attempt, base=0.2, cap=RECONNECT_CAP_SECONDS))
                attempt += 1
    finally:
        keeper.cancel()


RECONNECT_CAP_SECONDS = 5.0


def _redis_failure(exc: BaseException) -> BaseException | None:
    """The Redis connection failure in `exc`, also inside the receiver's task-group exception groups."""
    if isinstance(exc, REDIS_ERRORS):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _redis_failure(inner)
            if found is not None:
                return found
    return None


async def _keep_claimed(broker: AsyncBroker, every_seconds: float) -> None:
    keep = getattr(broker, "keep_claimed", None)
    if keep is None:
        return
    while True:
        await asyncio.sleep(every_seconds)
        with contextlib.suppress(*REDIS_ERRORS):
            await keep()


class Jobs:
    """What the app uses to start jobs."""

    def __init__(self, broker: AsyncBroker) -> None:
        self.broker = broker

    async def enqueue(self, name: str, **ids: Any) -> None:
        if name not in _JOBS:
            raise KeyError(f"no job named {name!r}")
        task = self.broker.find_task(name)
        if task is None:
            raise KeyError(f"job {name!r} is not bound to the broker")
        await task.kiq(ids)

    async def drain(self) -> None:
        """Wait for in-process jobs to finish (embedded broker; tests and shutdown)."""
        if isinstance(self.broker, InMemoryBroker):
            await self.broker.wait_all()


def enqueue_after_commit(session: AsyncSession, name: str, **ids: Any) -> None:
    """Queue a job to start once this session's transaction has committed."""
    session.info.setdefault(_PENDING_KEY, []).append((name, ids))


async def dispatch_after_commit(session: AsyncSession, jobs: Jobs) -> None:
    pending: list[tuple[str, dict[str, Any]]] = session.info.pop(_PENDING_KEY, [])
    for name, ids in pending:
        try:
            await jobs.enqueue(name, **ids)
        except REDIS_ERRORS as exc:
            # Committed rows, Redis down: a 503 would make the client repeat what already happened.
            log.warning("worker.enqueue_failed", job=name, error=type(exc).__name__)
        except Exception:
            # The rows are committed; a reconciler will find the work this job would have done.
            log.exception("worker.enqueue_failed", job=name)


def discard_pending(session: AsyncSession) -> None:
    session.info.pop(_PENDING_KEY, None)


async def start(broker: AsyncBroker, state: State) -> None:
    broker.state.carpulse = state
    await broker.startup()


async def beat(path: Path, every_seconds: float) -> None:
    """Touch `path` every `every_seconds` while this event loop runs: the worker's liveness signal."""
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    while True:
        await asyncio.to_thread(path.touch)
        await asyncio.sleep(every_seconds)


def heartbeat_age(path: Path) -> float | None:
    """Seconds since the heartbeat was last touched, None when there is none."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except FileNotFoundError:
        return None
