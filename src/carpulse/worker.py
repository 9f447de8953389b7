"""Jobs on taskiq: an in-memory broker on the embedded default, Redis streams (acknowledged) in production.

A job is `async def job(state, **ids)`, registered by name with `@job("domain.event")`. Jobs carry
ids only and are enqueued after the transaction that created their work commits, so a job never
sees uncommitted rows; handlers are idempotent because delivery is at-least-once. The queue is a
trigger, not the truth: reconcilers find work whose job was lost. Periodic sweeps (`@scheduled`) are
declared beside the jobs they serve and run wherever jobs are consumed (`carpulse.consumer`).

On Redis every lane is its own stream, read by its own receiver: renders (seconds of a car and of
CPU each) never hold up payment webhooks. A job is sent at most once while a message for it is
live (queued, or taken by a worker and not yet acknowledged), so reconcilers of every replica can
sweep without flooding the stream; an acknowledged message is deleted, so a stream holds only the
jobs in flight. Jobs due later wait in a sorted set until a consumer moves them to their stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends

from carpulse.kit.ephemeral import redis_connection_options
from carpulse.kit.logs import get_logger
from carpulse.kit.resilience import backoff_delay

log = get_logger("carpulse.worker")

JobFunction = Callable[..., Awaitable[None]]
_JOBS: dict[str, JobFunction] = {}
_LANES: dict[str, str] = {}
_PENDING_KEY = "carpulse.pending_jobs"

DEFAULT_LANE = "default"
RENDER_LANE = "render"
# A message's claim check outlives any queue we expect; past it, a reconciler may send a second one.
LIVE_KEY_SECONDS = 24 * 3600


def job(name: str, *, lane: str = DEFAULT_LANE) -> Callable[[JobFunction], JobFunction]:
    """Register `async def fn(state: State, **ids)` as the job `name`, consumed from `lane`'s stream."""

    def register(fn: JobFunction) -> JobFunction:
        _JOBS[name] = fn
        _LANES[name] = lane
        return fn

    return register


# A job or sweep takes the app's `State`, opaque to this foundation module (it sits below every domain).
ScheduledFunction = Callable[[Any], Awaitable[object]]
Scheduled = TypeVar("Scheduled", bound=ScheduledFunction)


@dataclass(frozen=True)
class Schedule:
    """A sweep run every `every_seconds`; None: every reconcile round (`CARPULSE_JOBS__RECONCILE_EVERY_SECONDS`)."""

    name: str
    fn: ScheduledFunction
    every_seconds: float | None


_SCHEDULES: dict[str, Schedule] = {}


def scheduled(name: str, *, every_seconds: float | None = None) -> Callable[[Scheduled], Scheduled]:
    """Declare `async def fn(state)` as the periodic sweep `name`, run where jobs are consumed."""

    def register(fn: Scheduled) -> Scheduled:
        _SCHEDULES[name] = Schedule(name, fn, every_seconds)
        return fn

    return register


def registered_schedules() -> list[Schedule]:
    """Every declared sweep, in the order their modules declared them."""
    return list(_SCHEDULES.values())


def lane_stream(queue_name: str, lane: str) -> str:
    return queue_name if lane == DEFAULT_LANE else f"{queue_name}.{lane}"


def job_key(name: str, ids: dict[str, Any]) -> str:
    """What makes two messages the same job: its name and its ids."""
    return f"{name}:{json.dumps(ids, sort_keys=True, separators=(',', ':'), default=str)}"


def registered_jobs() -> dict[str, JobFunction]:
    return dict(_JOBS)


def create_broker(
    redis_url: str | None,
    queue_name: str = "carpulse-jobs",
    *,
    prefetch: int = 1,
    claim_idle_seconds: float = 30.0,
    socket_timeout_seconds: float = 5.0,
    max_stream_length: int = 100_000,
) -> AsyncBroker:
    if redis_url:
        return _stream_broker(
            redis_url, queue_name, prefetch, claim_idle_seconds, socket_timeout_seconds, max_stream_length
        )
    # Exceptions stay inside the job runner (logged), as they would on a worker process.
    return InMemoryBroker(propagate_exceptions=False)


def create_lanes(redis_url: str | None, queue_name: str, **options: Any) -> dict[str, AsyncBroker]:
    """One broker per lane on Redis (each its own stream); in memory one broker serves every lane."""
    if not redis_url:
        return {DEFAULT_LANE: create_broker(None)}
    return {lane: create_broker(redis_url, lane_stream(queue_name, lane), **options) for lane in LANES}


LANES = (DEFAULT_LANE, RENDER_LANE)


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

# Send a job unless a message for it is live: its claim check names a message still in the stream
# (acknowledged messages are deleted). Atomic, so two replicas' reconcilers cannot both send it.
_SEND_ONCE = """
local live = redis.call('GET', KEYS[2])
if live and #redis.call('XRANGE', KEYS[1], live, live) > 0 then
  return false
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[1], 'key', KEYS[2])
redis.call('SET', KEYS[2], id, 'EX', ARGV[3])
return id
"""
# Acknowledge, delete the entry (a stream holds only jobs in flight), and drop its claim check.
_ACK_AND_DELETE = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if ARGV[3] ~= '' and redis.call('GET', ARGV[3]) == ARGV[2] then
  redis.call('DEL', ARGV[3])
end
return 1
"""


def _stream_broker(
    redis_url: str,
    queue_name: str,
    prefetch: int,
    claim_idle_seconds: float,
    socket_timeout_seconds: float,
    max_stream_length: int,
) -> AsyncBroker:
    from redis.asyncio import Redis
    from redis.exceptions import ResponseError
    from taskiq import AckableMessage, BrokerMessage
    from taskiq_redis import RedisStreamBroker

    class StreamBroker(RedisStreamBroker):
        """taskiq's stream broker with one Redis client kept for sending (its own `kick` builds a
        client per message, a third of the CPU a webhook costs the API), a job sent only while none
        of its messages is live, acknowledged messages deleted, a consumer group recreated whenever
        Redis lost it, and dead consumers' messages claimed on every round, not only after new
        messages arrived as taskiq-redis does."""

        _sender: Redis | None = None
        _scripts: dict[str, Any] | None = None

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
            self.delayed_key = f"{queue_name}.delayed"

        def _client(self) -> Redis:
            if self._sender is None:
                self._sender = Redis(connection_pool=self.connection_pool)
            return self._sender

        def _script(self, name: str) -> Any:
            if self._scripts is None:
                client = self._client()
                self._scripts = {
                    "send": client.register_script(_SEND_ONCE),
                    "ack": client.register_script(_ACK_AND_DELETE),
                }
            return self._scripts[name]

        def live_key(self, key: str) -> str:
            return f"{self.queue_name}:live:{key}"

        async def kick(self, message: BrokerMessage) -> None:
            key = message.labels.get("job_key")
            if not key:
                await self._client().xadd(
                    self.queue_name, {b"data": message.message}, maxlen=max_stream_length, approximate=True
                )
                return
            sent = await self._script("send")(
                keys=[self.queue_name, self.live_key(str(key))],
                args=[message.message, max_stream_length, LIVE_KEY_SECONDS],
            )
            if sent is None:
                log.debug("worker.already_queued", job=message.task_name)

        async def schedule(self, member: str, at: float) -> None:
            await self._client().zadd(self.delayed_key, {member: at})

        async def take_due(self, now: float, limit: int = 100) -> list[str]:
            """Members due by `now`, each removed by exactly one caller (ZREM answers 1 to one of them)."""
            client = self._client()
            due = await client.zrangebyscore(self.delayed_key, "-inf", now, start=0, num=limit)
            taken = []
            for member in due:
                if isinstance(member, bytes) and await client.zrem(self.delayed_key, member):
                    taken.append(member.decode())
            return taken

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
            live_key = fields.get(b"key", b"")

            async def ack() -> None:
                await self._script("ack")(keys=[self.queue_name], args=[self.consumer_group_name, message_id, live_key])
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
    """What the app uses to start jobs: now (once while a message for the job is live), or later."""

    def __init__(self, broker: AsyncBroker, lanes: dict[str, AsyncBroker] | None = None) -> None:
        self.broker = broker
        self.lanes = {DEFAULT_LANE: broker, **(lanes or {})}
        self._timers: set[asyncio.TimerHandle] = set()
        self._started: set[asyncio.Task[None]] = set()

    @classmethod
    def of(cls, lanes: dict[str, AsyncBroker]) -> Jobs:
        return cls(lanes[DEFAULT_LANE], lanes)

    def brokers(self) -> list[AsyncBroker]:
        """Each broker once (in memory, one serves every lane)."""
        return list({id(broker): broker for broker in self.lanes.values()}.values())

    def broker_for(self, name: str) -> AsyncBroker:
        return self.lanes.get(_LANES.get(name, DEFAULT_LANE), self.broker)

    async def enqueue(self, name: str, **ids: Any) -> None:
        if name not in _JOBS:
            raise KeyError(f"no job named {name!r}")
        task = self.broker_for(name).find_task(name)
        if task is None:
            raise KeyError(f"job {name!r} is not bound to the broker")
        await task.kicker().with_labels(job_key=job_key(name, ids)).kiq(ids)

    async def enqueue_later(self, delay_seconds: float, name: str, **ids: Any) -> None:
        """Start the job in `delay_seconds` (a retry's pause). On Redis it waits in a sorted set that every
        consumer moves from; if that is lost, the reconciler still finds the work."""
        if name not in _JOBS:
            raise KeyError(f"no job named {name!r}")
        schedule = getattr(self.broker, "schedule", None)
        if schedule is None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(max(0.0, delay_seconds), self._start_now, name, ids)
            self._timers.add(timer)
            return
        member = json.dumps({"job": name, "ids": ids}, sort_keys=True, default=str)
        await schedule(member, time.time() + max(0.0, delay_seconds))

    def _start_now(self, name: str, ids: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        self._timers = {timer for timer in self._timers if timer.when() > loop.time()}
        task = loop.create_task(self._enqueue_logged(name, ids))
        self._started.add(task)
        task.add_done_callback(self._started.discard)

    async def _enqueue_logged(self, name: str, ids: dict[str, Any]) -> None:
        try:
            await self.enqueue(name, **ids)
        except Exception:
            log.exception("worker.enqueue_failed", job=name)

    async def promote_due(self) -> int:
        """Move the jobs whose time came from the sorted set to their streams; the number moved."""
        take_due = getattr(self.broker, "take_due", None)
        if take_due is None:
            return 0
        moved = 0
        for member in await take_due(time.time()):
            entry = json.loads(member)
            if entry.get("job") in _JOBS:
                await self.enqueue(entry["job"], **entry.get("ids", {}))
                moved += 1
        return moved

    async def promote_forever(self, every_seconds: float = 1.0) -> None:
        while True:
            with contextlib.suppress(*REDIS_ERRORS):
                await self.promote_due()
            await asyncio.sleep(every_seconds)

    async def drain(self) -> None:
        """Wait for in-process jobs to finish (embedded broker; tests and shutdown)."""
        if self._started:
            await asyncio.gather(*self._started, return_exceptions=True)
        for broker in self.brokers():
            if isinstance(broker, InMemoryBroker):
                await broker.wait_all()

    async def shutdown(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for broker in self.brokers():
            await broker.shutdown()


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


async def start(broker: AsyncBroker, state: object) -> None:
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
