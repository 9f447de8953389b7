"""`carpulse worker` through a Redis restart and a SIGKILL, and its liveness check."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from carpulse.demo import walk
from carpulse.worker import Jobs, bind_jobs, create_broker
from tests.redis_server import RedisServer, free_port
from tests.report.test_worker_restart import _environment, _start, _wait_healthy

pytestmark = pytest.mark.server


def _worker_environment(tmp_path: Path, redis: RedisServer, port: int = 0) -> dict[str, str]:
    return _environment(tmp_path, port or free_port()) | {
        "CARPULSE_REDIS__URL": redis.url,
        "CARPULSE_JOBS__CLAIM_IDLE_SECONDS": "2",
        "CARPULSE_JOBS__HEARTBEAT_PATH": str(tmp_path / "worker.heartbeat"),
        "CARPULSE_JOBS__HEARTBEAT_SECONDS": "0.5",
    }


def _migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "carpulse.cli", "migrate"], env=env, check=True, capture_output=True)


def _stop(*processes: subprocess.Popen[bytes] | None) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carpulse.cli", "worker", "--check"], env=env, capture_output=True, text=True
    )


async def _eventually(predicate: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


async def _consumers(redis: Redis, queue: str) -> list[dict[str, Any]]:
    info: list[dict[str, Any]] = await redis.xinfo_consumers(queue, "carpulse")
    return info


class TestWorkerKilledHoldingMessages:
    async def test_another_worker_claims_them_within_seconds(self, tmp_path: Path, redis_server: RedisServer) -> None:
        import carpulse.inbound_event.tasks  # noqa: F401 - registers the job

        env = _worker_environment(tmp_path, redis_server)
        queue = env["CARPULSE_JOBS__QUEUE_NAME"]
        await asyncio.to_thread(_migrate, env)
        redis = Redis.from_url(redis_server.url)
        broker = create_broker(redis_server.url, queue)
        bind_jobs(broker)
        await broker.startup()
        first = _start("worker", env=env, log=tmp_path / "first.log")
        second: subprocess.Popen[bytes] | None = None
        try:
            await _eventually(lambda: _reading(redis), 30, "the first worker reads the stream")
            # Frozen inside its blocking read, the first worker is handed the job and never runs it.
            first.send_signal(signal.SIGSTOP)
            await Jobs(broker).enqueue("inbound_event.handle", event_pk=str(uuid.uuid4()))
            await _eventually(lambda: _pending(redis, queue, 1), 5, "the job is delivered to the frozen worker")
            first.send_signal(signal.SIGKILL)
            first.wait(10)

            second = _start("worker", env=env, log=tmp_path / "second.log")
            await _eventually(lambda: _reading(redis), 30, "the second worker reads the stream")
            # Claimed once idle for CARPULSE_JOBS__CLAIM_IDLE_SECONDS (2), not taskiq-redis's 10 minutes.
            await _eventually(lambda: _pending(redis, queue, 0), 8, "the second worker runs and acknowledges it")
            owners = {c["name"]: c["pending"] for c in await _consumers(redis, queue)}
            assert len(owners) == 2
            assert set(owners.values()) == {0}
        finally:
            _stop(first, second)
            await broker.shutdown()
            await redis.aclose()


async def _reading(redis: Redis) -> bool:
    """A worker is blocked in XREADGROUP (Redis lists a consumer only once it was handed a message)."""
    clients = await redis.client_list()
    return any(client.get("cmd") == "xreadgroup" for client in clients)


async def _pending(redis: Redis, queue: str, count: int) -> bool:
    summary = await redis.xpending(queue, "carpulse")
    return int(summary["pending"]) == count


class TestRedisRestartedEmpty:
    async def test_the_worker_recovers_and_delivers_an_order_paid_after(
        self, tmp_path: Path, redis_server: RedisServer
    ) -> None:
        port = free_port()
        env = _worker_environment(tmp_path, redis_server, port) | {"CARPULSE_SANDBOX__WAKE_DELAY_SECONDS": "0"}
        await asyncio.to_thread(_migrate, env)
        worker_log = tmp_path / "worker.log"
        server = _start("serve", "--host", "127.0.0.1", "--port", str(port), env=env, log=tmp_path / "serve.log")
        worker = _start("worker", env=env, log=worker_log)
        base_url = f"http://127.0.0.1:{port}"
        try:
            await _wait_healthy(base_url, server)
            redis = Redis.from_url(redis_server.url)
            try:
                await _eventually(lambda: _reading(redis), 30, "the worker reads the stream")
            finally:
                await redis.aclose()
            lines_before = len(worker_log.read_bytes().splitlines())

            redis_server.stop()
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                for _ in range(5):
                    down = await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "en"})
                    assert down.status_code == 503, down.text
                    assert down.headers["content-type"] == "application/problem+json"
                    assert down.headers["retry-after"] == "5"
                await asyncio.sleep(3)
                redis_server.start()

                # First call after recovery: no stale pooled connection, no 500.
                up = await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "en"})
                assert up.status_code == 200, up.text
                result = await asyncio.wait_for(
                    walk(client, locale="en", package="basic", out=tmp_path / "out", echo=lambda _: None), 60
                )
            assert result.report_pdf.read_bytes().startswith(b"%PDF")
            outage_lines = worker_log.read_bytes().splitlines()[lines_before:]
            # The outage is said a few times, not once per poll. The reconciler's requeues are recovery, not
            # noise: on a loaded machine a round may requeue the same lost job again before the first runs.
            noise = [line for line in outage_lines if b'.requeued"' not in line]
            assert len(noise) <= 5, b"\n".join(outage_lines[:20]).decode()
            assert not [line for line in outage_lines if b'"severity": "ERROR"' in line]
            events = [json.loads(line)["message"] for line in outage_lines if line.startswith(b"{")]
            assert "worker.redis_unavailable" in events
        finally:
            _stop(worker, server)


class TestLivenessCheck:
    async def test_alive_while_running_dead_after_a_kill(self, tmp_path: Path, redis_server: RedisServer) -> None:
        env = _worker_environment(tmp_path, redis_server)
        await asyncio.to_thread(_migrate, env)
        never_started = await asyncio.to_thread(_check, env)
        assert never_started.returncode == 1
        assert "dead" in never_started.stderr

        worker = _start("worker", env=env, log=tmp_path / "worker.log")
        try:

            async def alive() -> bool:
                return (await asyncio.to_thread(_check, env)).returncode == 0

            await _eventually(alive, 30, "the check reports the worker alive")
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            await asyncio.sleep(2)  # past 3 × the 0.5 s heartbeat
            dead = await asyncio.to_thread(_check, env)
            assert dead.returncode == 1, dead.stdout
            assert "dead" in dead.stderr
        finally:
            _stop(worker)


class TestLiveWorkerKeepsItsRunningJob:
    async def test_a_job_running_longer_than_the_claim_time_is_not_claimed(self, redis_server: RedisServer) -> None:
        import carpulse.inbound_event.tasks  # noqa: F401 - registers the job

        queue = f"carpulse-test:{uuid.uuid4().hex}:jobs"
        running = create_broker(redis_server.url, queue, claim_idle_seconds=1)
        redis = Redis.from_url(redis_server.url)
        try:
            bind_jobs(running)
            await running.startup()
            await running.declare_group()  # type: ignore[attr-defined]
            await Jobs(running).enqueue("inbound_event.handle", event_pk=str(uuid.uuid4()))
            await asyncio.wait_for(anext(running.listen()), 5)
            for _ in range(6):  # 1.5 s running, the worker's refresh every third of the claim time
                await asyncio.sleep(0.25)
                await running.keep_claimed()  # type: ignore[attr-defined]
            stolen = await redis.xautoclaim(queue, "carpulse", "other", min_idle_time=1000, count=10)
            assert stolen[1] == []
            pending = await redis.xpending_range(queue, "carpulse", min="-", max="+", count=10)
            assert [entry["consumer"].decode() for entry in pending] == [running.consumer_name]  # type: ignore[attr-defined]
        finally:
            await running.shutdown()
            await redis.aclose()
