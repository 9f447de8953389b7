"""Reports: time per Pro report vs bare WeasyPrint on the same HTML (goal ≤ 1.2×), billable Fleet
calls per report, `/health` p99 while 4 PDFs render vs idle (goal ≤ 2×), and the async endpoint's p99
while reports render (goal < 20 ms).

The first figures come from an in-process app on the embedded defaults; the latencies from
`carpulse serve` in its own process (SQLite, in-memory jobs, the sandbox vendors), over TCP.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.server import free_port, migrate, sandbox_env, serving, wait_live
from carpulse.config import Settings
from carpulse.demo import in_process_client, walk
from carpulse.kit.documents import render_pdf
from carpulse.kit.i18n import LOCALES


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _latencies(client: httpx.AsyncClient, path: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return samples


async def _health_while(client: httpx.AsyncClient, busy: asyncio.Future[object]) -> list[float]:
    samples = []
    while not busy.done():
        started = time.perf_counter()
        await client.get("/health")
        samples.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.005)
    return samples


def _settings(folder: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database={"url": f"sqlite+aiosqlite:///{folder / 'bench.db'}"},
        storage={"url": str(folder / "storage")},
        rate_limit={"enabled": False},
        sandbox={"wake_delay_seconds": 0},
        tesla={"public_key_path": str(folder / "public.pem"), "private_key_path": str(folder / "private.pem")},
        log={"level": "WARNING", "json_lines": True},
    )


async def _run(folder: Path, settings: Settings) -> list[str]:
    lines = []
    async with in_process_client(settings) as client:
        result = await walk(client, locale="fi", package="pro", out=folder / "out", echo=lambda _: None)
        order_id, vin = result.order_id, result.vin
        html = result.report_html.read_text(encoding="utf-8")

        # 1. Our whole chain (view model → HTML → PDF) vs WeasyPrint alone on the same HTML, same process.
        from carpulse.connect.dependencies import connect_context
        from carpulse.report.document import render_document
        from carpulse.report.pipeline import document_inputs
        from carpulse.vehicle.service import vehicle_access

        state = client._transport.app.state.carpulse  # type: ignore[attr-defined]
        async with state.sessionmaker() as db:
            access = await vehicle_access.for_order(db, connect_context(state), order_id)
            inputs, record = await document_inputs(db, state, access, vin, "pro", "fi", "bench")
            billable = record.billable_calls
            await db.commit()
        bare, ours = [], []
        for _ in range(3):
            started = time.perf_counter()
            render_pdf(html)
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            render_document(inputs)
            ours.append(time.perf_counter() - started)
        bare_s, ours_s = statistics.median(bare), statistics.median(ours)
        lines.append(
            f"  Pro report, view model + HTML + PDF      {ours_s * 1000:7.0f} ms  vs bare WeasyPrint "
            f"{bare_s * 1000:7.0f} ms  ×{ours_s / bare_s:.2f}  (goal ≤ 1.2)"
        )
        lines.append(f"  billable Fleet calls for the Pro report  {billable}  (the other 8 languages reuse them: 0)")

    return lines


async def _under_load(folder: Path) -> list[str]:
    """Phases 2–3 against `carpulse serve` in its own process, as deployed: the client's work does not
    share the server's event loop, so the latencies are the server's."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = sandbox_env(folder, port, "server", CARPULSE_RATE_LIMIT__ENABLED="false")
    await migrate(env)
    lines = []
    with serving(env, port):
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            await wait_live(client)
            result = await walk(client, locale="en", package="pro", out=folder / "server-out", echo=lambda _: None)
            order_id, vin = result.order_id, result.vin

            # 2. /health p99 idle vs while 4 PDFs render (the synchronous endpoint: rendering runs in the
            # pool). Three rounds of each, interleaved, so a passing disturbance does not decide the figure.
            await _latencies(client, "/health", 100)  # warm-up
            body = {"order_id": order_id, "vin": vin, "package": "pro"}
            idle: list[float] = []
            loaded: list[float] = []
            for _ in range(3):
                idle += await _latencies(client, "/health", 300)
                renders = asyncio.ensure_future(
                    asyncio.gather(
                        *(
                            client.post("/api/v1/tesla/vehicle-report/pdf", json=body | {"locale": locale})
                            for locale in ("en", "de", "sv", "it")
                        )
                    )
                )
                loaded += await _health_while(client, renders)
                responses = await renders
                assert all(r.status_code == 200 for r in responses), [r.text[:200] for r in responses]
            lines.append(
                f"  /health p99 idle {_p99(idle):6.2f} ms, while 4 PDFs render {_p99(loaded):6.2f} ms "
                f"({len(idle)}/{len(loaded)} samples)  ×{_p99(loaded) / _p99(idle):.2f}  (goal ≤ 2)"
            )

            # 3. The async endpoint while reports render: 9 languages, three rounds.
            timings, task_ids = [], []
            for _ in range(3):
                for locale in LOCALES:
                    started = time.perf_counter()
                    response = await client.post(
                        "/api/v1/tesla/vehicle-report/pdf/async",
                        json={"order_id": order_id, "vin": vin, "locale": locale},
                    )
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 202, response.text
                    task_ids.append(response.json()["task_id"])
            started = time.perf_counter()
            statuses: list[str] = []
            while time.perf_counter() - started < 600:
                statuses = [
                    (await client.get(f"/api/v1/tesla/reports/status/{task_id}")).json()["status"]
                    for task_id in task_ids
                ]
                if all(status in ("complete", "failed") for status in statuses):
                    break
                await asyncio.sleep(0.5)
            # Rounds 2 and 3 ask for the same reports again: they answer with round 1's tasks.
            lines.append(
                f"  async endpoint p99 {_p99(timings):6.2f} ms (median {statistics.median(timings):5.2f} ms) "
                f"over {len(task_ids)} requests while {len(set(task_ids))} reports render (goal < 20 ms); "
                f"{statuses.count('complete')} of {len(task_ids)} complete in {time.perf_counter() - started:.1f} s"
            )
    return lines


def run() -> None:
    from alembic import command

    from carpulse.cli import alembic_config

    print("reports (bench/reports.py)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        settings = _settings(folder)
        command.upgrade(alembic_config(settings.database.url), "head")
        for line in asyncio.run(_run(folder, settings)):
            print(line)
        for line in asyncio.run(_under_load(folder)):
            print(line)


if __name__ == "__main__":
    run()
