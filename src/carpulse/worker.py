"""Jobs on taskiq: an in-memory broker on the embedded default, Redis streams (acknowledged) in production.

A job is `async def job(state, **ids)`, registered by name with `@job("domain.event")`. Jobs carry
ids only and are enqueued after the transaction that created their work commits, so a job never
sees uncommitted rows; handlers are idempotent because delivery is at-least-once. The queue is a
trigger, not the truth: reconcilers find work whose job was lost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends

from carpulse.kit.logs import get_logger

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


def create_broker(redis_url: str | None, queue_name: str = "carpulse-jobs") -> AsyncBroker:
    if redis_url:
        return _stream_broker(redis_url, queue_name)
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


def _stream_broker(redis_url: str, queue_name: str) -> AsyncBroker:
    from redis.asyncio import Redis
    from taskiq import BrokerMessage
    from taskiq_redis import RedisStreamBroker

    class StreamBroker(RedisStreamBroker):
        """taskiq's stream broker, with one Redis client kept for sending: its own `kick` builds a
        client per message, a third of the CPU a webhook costs the API."""

        _sender: Redis | None = None

        async def kick(self, message: BrokerMessage) -> None:
            if self._sender is None:
                self._sender = Redis(connection_pool=self.connection_pool)
            await self._sender.xadd(
                message.labels.get("queue_name") or self.queue_name,
                {b"data": message.message},
                maxlen=self.maxlen,
                approximate=self.approximate,
            )

        async def shutdown(self) -> None:
            if self._sender is not None:
                await self._sender.aclose(close_connection_pool=False)
                self._sender = None
            await super().shutdown()

    return StreamBroker(redis_url, queue_name=queue_name, consumer_group_name="carpulse")


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
        except Exception:
            # The rows are committed; a reconciler will find the work this job would have done.
            log.exception("worker.enqueue_failed", job=name)


def discard_pending(session: AsyncSession) -> None:
    session.info.pop(_PENDING_KEY, None)


async def start(broker: AsyncBroker, state: State) -> None:
    broker.state.carpulse = state
    await broker.startup()
