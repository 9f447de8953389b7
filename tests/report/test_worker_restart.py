"""A worker killed in the middle of a report, then restarted: the report is still delivered."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from carpulse.demo import walk

pytestmark = pytest.mark.server

REDIS_URL = os.environ.get("CARPULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(tmp_path: Path, port: int) -> dict[str, str]:
    prefix = f"carpulse-test:{uuid.uuid4().hex}:"
    return os.environ | {
        "CARPULSE_ENVIRONMENT": "test",
        "CARPULSE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'carpulse.db'}",
        "CARPULSE_STORAGE__URL": str(tmp_path / "storage"),
        "CARPULSE_REDIS__URL": REDIS_URL,
        "CARPULSE_REDIS__KEY_PREFIX": prefix,
        "CARPULSE_JOBS__BROKER": "redis",
        "CARPULSE_JOBS__QUEUE_NAME": f"{prefix}jobs",
        "CARPULSE_JOBS__IN_PROCESS_WORKER": "false",
        "CARPULSE_JOBS__RECONCILE_EVERY_SECONDS": "1",
        "CARPULSE_REPORT__LEASE_SECONDS": "6",
        "CARPULSE_REPORT__RECONCILE_AFTER_SECONDS": "2",
        "CARPULSE_REPORT__WAKE_POLL_SECONDS": "1",
        "CARPULSE_SANDBOX__WAKE_DELAY_SECONDS": "4",
        "CARPULSE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "CARPULSE_TESLA__PUBLIC_KEY_PATH": str(tmp_path / "keys" / "public.pem"),
        "CARPULSE_TESLA__PRIVATE_KEY_PATH": str(tmp_path / "keys" / "private.pem"),
        "CARPULSE_RATE_LIMIT__ENABLED": "false",
        "CARPULSE_LOG__LEVEL": "WARNING",
    }


def _start(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "carpulse.cli", *args], env=env, stdout=sink, stderr=subprocess.STDOUT
        )


async def _wait_healthy(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            assert server.poll() is None, "the server exited"
            try:
                if (await client.get("/health/live")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the server did not start")


class TestWorkerKilledMidRender:
    async def test_restarted_worker_delivers_the_report(self, tmp_path: Path) -> None:
        port = _free_port()
        env = _environment(tmp_path, port)
        log = tmp_path / "processes.log"
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "carpulse.cli", "migrate"], env=env, check=True, capture_output=True
        )
        server = _start("serve", "--host", "127.0.0.1", "--port", str(port), env=env, log=log)
        first = _start("worker", env=env, log=log)
        second: subprocess.Popen[bytes] | None = None
        base_url = f"http://127.0.0.1:{port}"
        try:
            await _wait_healthy(base_url, server)
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
                demo = asyncio.create_task(
                    walk(
                        client,
                        locale="sv",
                        package="pro",
                        out=tmp_path / "out",
                        account="sleepy",
                        echo=lambda _: None,
                        patience_seconds=120,
                    )
                )
                # Wait until the worker has claimed the render (the sleepy car takes seconds to wake).
                seen = None
                deadline = time.monotonic() + 60
                while seen != "processing" and time.monotonic() < deadline and not demo.done():
                    await asyncio.sleep(0.1)
                    orders = await client.get("/api/v1/tesla/report/" + (await _order_id(client, tmp_path) or "x"))
                    if orders.status_code == 200 and orders.json()["vehicles"][0]["reports"]:
                        seen = orders.json()["vehicles"][0]["reports"][0]["status"]
                assert seen == "processing", f"the render was never seen in progress ({seen})"
                first.send_signal(signal.SIGKILL)
                first.wait(10)

                second = _start("worker", env=env, log=log)
                result = await asyncio.wait_for(demo, 120)

            assert result.report_pdf.read_bytes().startswith(b"%PDF")
            assert result.vin in result.report_html.read_text(encoding="utf-8")
            # Claimed twice: by the worker that was killed, then by its successor after the lease ran out.
            assert _attempts(tmp_path) == [2]
        finally:
            for process in (first, second, server):
                if process is not None and process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(15)
                    except subprocess.TimeoutExpired:
                        process.kill()


async def _order_id(client: httpx.AsyncClient, tmp_path: Path) -> str | None:
    """The order the demo created: the only one in this test's database."""
    import sqlite3

    connection = sqlite3.connect(tmp_path / "carpulse.db")
    try:
        row = connection.execute('SELECT id FROM "order" LIMIT 1').fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def _attempts(tmp_path: Path) -> list[int]:
    import sqlite3

    connection = sqlite3.connect(tmp_path / "carpulse.db")
    try:
        return [int(row[0]) for row in connection.execute("SELECT attempts FROM report")]
    finally:
        connection.close()
