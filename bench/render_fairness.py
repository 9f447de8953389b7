"""Fair renders: one order's report time while another order floods the render queue, against idle
(goal ≤ 1.5×), and `/health` p99 meanwhile.

Against `carpulse serve` in its own process, on the embedded defaults (SQLite, in-memory jobs, the
sandbox vendors) and the default rate limits: the flood sends distinct Pro reports (languages ×
packages) until the `render` budget refuses one, then the other order asks for one report.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from bench.server import free_port, migrate, sandbox_env, serving, wait_live
from carpulse.demo import walk
from carpulse.kit.i18n import LOCALES

ASYNC = "/api/v1/tesla/vehicle-report/pdf/async"


async def _until_done(client: httpx.AsyncClient, task_id: str, patience: float = 120.0) -> str:
    deadline = time.perf_counter() + patience
    while time.perf_counter() < deadline:
        status: str = (await client.get(f"/api/v1/tesla/reports/status/{task_id}")).json()["status"]
        if status in ("complete", "failed"):
            return status
        await asyncio.sleep(0.1)
    return "timed out"


async def _one_report(client: httpx.AsyncClient, order_id: str, vin: str, locale: str) -> tuple[float, float]:
    """Seconds until the report is complete, and the p99 of `/health` (ms) meanwhile."""
    started = time.perf_counter()
    response = await client.post(ASYNC, json={"order_id": order_id, "vin": vin, "locale": locale, "package": "pro"})
    assert response.status_code == 202, response.text
    done = asyncio.ensure_future(_until_done(client, response.json()["task_id"]))
    latencies = []
    while not done.done():
        probe = time.perf_counter()
        await client.get("/health")
        latencies.append((time.perf_counter() - probe) * 1000)
        await asyncio.sleep(0.05)
    assert await done == "complete"
    latencies.sort()
    return time.perf_counter() - started, latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


async def _measure(folder: Path) -> list[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = sandbox_env(folder, port, "fair")
    await migrate(env)
    with serving(env, port) as server:
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            await wait_live(client, attempts=1200)  # a loaded machine starts slowly
            # Both orders at once: the second paid-for report renders in the lane, so the lane's process
            # has started (and imported WeasyPrint) before anything is timed.
            flood, other = await asyncio.gather(
                *(
                    walk(client, locale="en", package="pro", out=folder / who, account=who, echo=lambda _: None)
                    for who in ("solo", "family")
                )
            )

            idle, idle_health = await _one_report(client, other.order_id, other.vin, "de")

            accepted, reused, refused = [], 0, 0
            for package in ("pro", "basic"):
                for locale in LOCALES:
                    body = {"order_id": flood.order_id, "vin": flood.vin, "locale": locale, "package": package}
                    response = await client.post(ASYNC, json=body)
                    if response.status_code == 429:
                        refused += 1
                    elif response.json()["status"] == "complete":
                        reused += 1  # the paid-for report, finished on fresh data: no render
                    else:
                        assert response.status_code == 202, response.text
                        accepted.append(response.json()["task_id"])
            flooded, flooded_health = await _one_report(client, other.order_id, other.vin, "sv")
            statuses = [
                (await client.get(f"/api/v1/tesla/reports/status/{task}")).json()["status"] for task in accepted
            ]
        # The flood's backlog is of no further interest, and a graceful stop would render it first.
        server.kill()
    return [
        f"  another order's Pro report: idle {idle:5.1f} s, while one order floods {flooded:5.1f} s  "
        f"×{flooded / idle:.2f}  (goal ≤ 1.5)",
        f"  /health p99 meanwhile: idle {idle_health:6.2f} ms, flooded {flooded_health:6.2f} ms",
        f"  the flood: {len(accepted)} renders queued, {reused} answered by a finished report, {refused} refused "
        f"(429, render budget); {statuses.count('complete')} of its renders finished before the other report",
    ]


def run() -> None:
    print("fair renders (bench/render_fairness.py)")
    with tempfile.TemporaryDirectory() as name:
        for line in asyncio.run(_measure(Path(name))):
            print(line)


if __name__ == "__main__":
    run()
