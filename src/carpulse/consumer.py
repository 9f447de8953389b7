"""The worker process: consume the jobs, and run the sweeps declared beside them (`@scheduled`).

`carpulse serve` runs the same loop in-process when asked (the embedded default); `carpulse worker`
runs only this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path

from carpulse.config import Settings
from carpulse.kit.logs import configure_logging, get_logger
from carpulse.reconcile_run.service import reconcile_runs
from carpulse.state import State
from carpulse.worker import DEFAULT_LANE, RENDER_LANE, beat, bind_jobs, consume, registered_schedules
from carpulse.worker import start as start_broker

log = get_logger("carpulse.consumer")

RECONCILE_EVERY_SECONDS = 15.0

StateOpener = Callable[[Settings], AbstractAsyncContextManager[State]]


def register_tasks() -> None:
    """Import the modules that declare jobs and sweeps, so that each registers itself."""
    import carpulse.inbound_event.tasks
    import carpulse.mail.tasks
    import carpulse.order.tasks
    import carpulse.payment.tasks
    import carpulse.report.tasks
    import carpulse.trip.tasks
    import carpulse.usage.tasks  # noqa: F401 - registers the jobs


async def start_jobs(state: State, *, consume: bool | None = None) -> asyncio.Task[None] | None:
    """Start the broker; with Redis and an in-process worker (or `consume`), consume jobs here too."""
    register_tasks()
    for broker in state.jobs.brokers():
        bind_jobs(broker)
        await start_broker(broker, state)
    consume = state.settings.jobs.in_process_worker if consume is None else consume
    if state.settings.jobs.broker == "redis" and consume:
        return asyncio.create_task(consume_jobs(state))
    return None


async def consume_jobs(state: State) -> None:
    """Each lane with its own receiver, and the jobs due later moved to their streams.

    The render lane takes only what this process's render slots (and the lane for idle orders) can
    start, so other workers get the rest; webhooks and payments never wait behind a render.
    """
    jobs = state.settings.jobs
    concurrency = {DEFAULT_LANE: jobs.concurrency, RENDER_LANE: state.settings.report.concurrent_renders + 1}
    tasks = [
        asyncio.create_task(
            consume(
                broker,
                concurrency=concurrency.get(lane, jobs.concurrency),
                prefetch=jobs.prefetch,
                claim_idle_seconds=jobs.claim_idle_seconds,
            )
        )
        for lane, broker in state.jobs.lanes.items()
    ]
    tasks.append(asyncio.create_task(state.jobs.promote_forever()))
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


async def reconcile_once(state: State) -> None:
    """Run every sweep declared for the reconcile round once: re-queue what lost jobs left behind.
    The queue is a trigger; the tables are the truth."""
    register_tasks()
    started = state.clock.now()
    found: dict[str, int] = {}
    for schedule in registered_schedules():
        if schedule.every_seconds is None:
            found[schedule.name] = _count(await schedule.fn(state))
    await _record_round(state, started, found, {})


def _count(result: object) -> int:
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


async def _record_round(state: State, started: datetime, found: dict[str, int], failed: dict[str, str]) -> None:
    """Keep the round for the admin's page; a database that cannot take it must not stop the reconciler."""
    try:
        async with state.sessionmaker() as db:
            await reconcile_runs.record(db, started, state.clock.now(), found, failed)
            await db.commit()
    except Exception:
        log.warning("worker.reconcile_round_not_recorded", exc_info=True)


async def reconcile_forever(
    state: State, every_seconds: float = RECONCILE_EVERY_SECONDS, *, sweep_at_start: bool = False
) -> None:
    """Where this process runs jobs: a round every `every_seconds`, each declared sweep on the rounds its period falls.

    An API process sleeps first, so it serves before it sweeps; a worker sweeps at once, since a
    worker restarted after a crash is what lost work waits for.
    """
    register_tasks()
    rounds = 0
    while True:
        if rounds or not sweep_at_start:
            await asyncio.sleep(every_seconds)
        started = state.clock.now()
        found: dict[str, int] = {}
        failed: dict[str, str] = {}
        for schedule in registered_schedules():
            period = max(1, round((schedule.every_seconds or every_seconds) / every_seconds))
            if rounds % period:
                continue
            try:
                found[schedule.name] = _count(await schedule.fn(state))
            except Exception as exc:
                failed[schedule.name] = f"{type(exc).__name__}: {exc}"
                log.exception("worker.schedule_failed", schedule=schedule.name)
        await _record_round(state, started, found, failed)
        rounds += 1


async def run_worker(settings: Settings, open_state: StateOpener) -> None:
    """`carpulse worker`: consume jobs from the Redis stream and run the sweeps, until cancelled.

    Messages are acknowledged after their job ran, so a worker killed mid-job leaves its message
    pending; the report's expired lease lets the reconciler of any worker hand it on.
    """
    if settings.jobs.broker != "redis":
        raise RuntimeError(
            "`carpulse worker` consumes the Redis broker (CARPULSE_JOBS__BROKER=redis); "
            "with the in-memory broker, jobs run inside `carpulse serve`"
        )
    configure_logging(settings.log.level, settings.log.json_lines)
    try:
        async with open_state(settings) as state:
            heartbeat = asyncio.create_task(beat(Path(settings.jobs.heartbeat_path), settings.jobs.heartbeat_seconds))
            tasks = [heartbeat]
            try:
                await start_jobs(state, consume=False)
                tasks.append(asyncio.create_task(consume_jobs(state)))
                tasks.append(
                    asyncio.create_task(
                        reconcile_forever(state, settings.jobs.reconcile_every_seconds, sweep_at_start=True)
                    )
                )
                log.info("worker.started", queue=settings.jobs.queue_name, database=state.engine.dialect.name)
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
    finally:
        log.info("worker.stopped")
