"""Two `carpulse serve` replicas and one `carpulse worker` on PostgreSQL + Redis, against one `carpulse sandbox`.

The replicas share one public base URL, a load balancer's: it sends the sign-in's start and the
checkout to replica A and every other API request to replica B, so each step is answered by another
process than the one before it.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from carpulse.demo import walk
from tests.redis_server import RedisServer, free_port
from tests.report.test_worker_restart import _environment, _start, _wait_healthy

pytestmark = pytest.mark.server

ON_REPLICA_A = ("/api/v1/tesla/oauth/initiate", "/api/v1/payment/create-intent")
PUBLIC_KEY = "/.well-known/appspecific/com.tesla.3p.public-key.pem"


HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"content-encoding"}


class LoadBalancer:
    """The public address in front of both replicas, per request: the sign-in's start and the checkout
    to A, `/_sandbox/…` to A and B in turn (no path rule for it, as the operator's), the rest to B.

    The Host header stays the public one, as a load balancer forwards it. `served` records who answered what.
    """

    def __init__(self, a: httpx.URL, b: httpx.URL) -> None:
        self.replicas = {"A": a, "B": b}
        self.http = httpx.AsyncClient(timeout=60)
        self.served: list[tuple[str, str]] = []
        self._spread = itertools.cycle("AB")

    def _pick(self, path: str) -> str:
        if path in ON_REPLICA_A:
            return "A"
        return next(self._spread) if path.startswith("/_sandbox/") else "B"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        replica = self._pick(request.url.path)
        self.served.append((replica, request.url.path))
        upstream = await self.http.request(
            request.method,
            self.replicas[replica].copy_with(path=request.url.path, query=request.url.query.encode()),
            headers=request.headers.raw,
            content=await request.body(),
        )
        response = Response(upstream.content, status_code=upstream.status_code)
        response.raw_headers = [(k, v) for k, v in upstream.headers.raw if k.lower() not in HOP_BY_HOP]
        response.raw_headers.append((b"content-length", str(len(upstream.content)).encode()))
        await response(scope, receive, send)


@asynccontextmanager
async def _serving(balancer: LoadBalancer, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(balancer, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the load balancer did not start"
            await asyncio.sleep(0.05)
        yield
    finally:
        server.should_exit = True
        await task
        await balancer.http.aclose()


@contextmanager
def _processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


async def _webhook_events(database_url: str) -> list[tuple[str, str]]:
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT provider, event_type FROM inbound_event ORDER BY received_at")
    finally:
        await connection.close()
    return [(row["provider"], row["event_type"]) for row in rows]


class TestTwoReplicasOneSandbox:
    async def test_the_whole_purchase_crosses_both_replicas(
        self, tmp_path: Path, empty_database: str, redis_server: RedisServer
    ) -> None:
        a_port, b_port, public_port, sandbox_port = free_port(), free_port(), free_port(), free_port()
        # Every process gets the same environment, with the load balancer's address as the public base URL.
        env = _environment(tmp_path, public_port) | {
            "CARPULSE_DATABASE__URL": empty_database,
            "CARPULSE_REDIS__URL": redis_server.url,
            "CARPULSE_REPLICAS": "2",
            "CARPULSE_SANDBOX__URL": f"http://127.0.0.1:{sandbox_port}/_sandbox",
            "CARPULSE_SANDBOX__WAKE_DELAY_SECONDS": "0",
            "CARPULSE_JOBS__HEARTBEAT_PATH": str(tmp_path / "worker.heartbeat"),
        }
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "carpulse.cli", "migrate"], env=env, check=True, capture_output=True
        )
        a, b = httpx.URL(f"http://127.0.0.1:{a_port}"), httpx.URL(f"http://127.0.0.1:{b_port}")
        balancer = LoadBalancer(a, b)
        with _processes() as started:
            sandbox = _start("sandbox", "--host", "127.0.0.1", env=env, log=tmp_path / "sandbox.log")
            replica_a = _start("serve", "--host", "127.0.0.1", "--port", str(a_port), env=env, log=tmp_path / "a.log")
            replica_b = _start("serve", "--host", "127.0.0.1", "--port", str(b_port), env=env, log=tmp_path / "b.log")
            started += [sandbox, replica_a, replica_b, _start("worker", env=env, log=tmp_path / "worker.log")]
            await asyncio.gather(
                _wait_healthy(f"http://127.0.0.1:{sandbox_port}", sandbox),
                _wait_healthy(str(a), replica_a),
                _wait_healthy(str(b), replica_b),
            )
            async with (
                _serving(balancer, public_port),
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{public_port}", timeout=60) as client,
            ):
                paid_by = {}
                for provider in ("stripe", "paypal"):
                    result = await walk(
                        client,
                        locale="en",
                        package="basic",
                        out=tmp_path / provider,
                        provider=provider,
                        echo=lambda _: None,
                        patience_seconds=60,
                    )
                    assert result.report_pdf.read_bytes().startswith(b"%PDF")
                    assert result.vin in result.report_html.read_text(encoding="utf-8")
                    assert result.receipt_pdf.read_bytes().startswith(b"%PDF")
                    receipt = (await client.get(f"/api/v1/payment/receipt/{result.order_id}")).json()
                    paid_by[provider] = receipt["payment_provider"]
                assert paid_by == {"stripe": "stripe", "paypal": "paypal"}

                # The consent page opened at the load balancer's /_sandbox, on either replica, is the sandbox's.
                initiated = (await client.post("/api/v1/tesla/oauth/initiate", json={"locale": "en"})).json()
                authorize = httpx.URL(initiated["authorization_url"])
                assert authorize.port == sandbox_port
                for _ in ("A", "B"):
                    page = await client.get(authorize.path, params=authorize.params, follow_redirects=True)
                    assert page.status_code == 200, page.text
                    assert "solo" in page.text
                    assert page.url.port == sandbox_port

            # One partner key pair, though both replicas made it at their first start.
            async with httpx.AsyncClient() as direct:
                keys = {(await direct.get(url.join(PUBLIC_KEY))).text for url in (a, b)}
            private = serialization.load_pem_private_key((tmp_path / "keys" / "private.pem").read_bytes(), None)
            served = private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            assert keys == {served.decode()}

        # Each step ran where the balancer sent it: the sign-in and checkout on A, the rest on B.
        assert ("A", "/api/v1/tesla/oauth/initiate") in balancer.served
        assert ("B", "/api/v1/tesla/oauth/callback") in balancer.served
        assert ("A", "/api/v1/payment/create-intent") in balancer.served
        assert {replica for replica, path in balancer.served if path.startswith("/api/v1/payment/receipt/")} == {"B"}
        assert {replica for replica, path in balancer.served if path.startswith("/_sandbox/")} == {"A", "B"}
        assert ("B", "/api/v1/payment/webhook/stripe") in balancer.served
        # The sandbox delivered the payment webhooks to the public address, and a replica stored them.
        events = await _webhook_events(empty_database)
        assert ("stripe", "checkout.session.completed") in events
        assert ("paypal", "PAYMENT.CAPTURE.COMPLETED") in events
