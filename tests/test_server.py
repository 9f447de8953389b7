"""`carpulse serve` as a real process on a loopback port: slow and idle clients are cut off, others served."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

HEADER_TIMEOUT = 1.5
KEEP_ALIVE = 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = os.environ | {
        "CARPULSE_ENVIRONMENT": "test",
        "CARPULSE_DATABASE__URL": f"sqlite+aiosqlite:///{root / 'carpulse.db'}",
        "CARPULSE_STORAGE__URL": str(root / "storage"),
        "CARPULSE_TESLA__PUBLIC_KEY_PATH": str(root / "keys" / "public.pem"),
        "CARPULSE_TESLA__PRIVATE_KEY_PATH": str(root / "keys" / "private.pem"),
        "CARPULSE_SERVER__HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "CARPULSE_SERVER__KEEP_ALIVE_TIMEOUT_SECONDS": str(KEEP_ALIVE),
        "CARPULSE_SERVER__MAX_HEAD_BYTES": "8192",
        "CARPULSE_LOG__LEVEL": "WARNING",
    }
    env.pop("CARPULSE_REDIS__URL", None)
    command = [sys.executable, "-m", "carpulse.cli"]
    subprocess.run([*command, "migrate"], env=env, check=True, capture_output=True, cwd=root)
    log = (root / "serve.log").open("wb")
    process = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (root / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield Server("127.0.0.1", port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
async def raw(server: Server) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        yield reader, writer
    finally:
        writer.close()


async def closed_after(reader: asyncio.StreamReader, started: float, limit: float) -> float:
    """Seconds from `started` until the server closes the connection (reading whatever it sends)."""
    while await asyncio.wait_for(reader.read(65536), timeout=limit):
        pass
    return time.monotonic() - started


class TestSlowClients:
    async def test_a_slowloris_is_cut_off_while_a_normal_client_is_served(
        self, server: Server, raw: tuple[asyncio.StreamReader, asyncio.StreamWriter]
    ) -> None:
        reader, writer = raw
        started = time.monotonic()
        writer.write(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")

        async def dribble() -> None:
            for _ in range(40):  # a header byte every 0.25 s, for 10 s unless cut off
                await asyncio.sleep(0.25)
                if writer.is_closing():
                    return
                writer.write(b"X")
                try:
                    await writer.drain()
                except ConnectionError:
                    return

        trickle = asyncio.create_task(dribble())
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            normal = await client.get("/health/live")
        elapsed = await closed_after(reader, started, limit=HEADER_TIMEOUT + 5)
        trickle.cancel()

        assert normal.status_code == 200
        assert HEADER_TIMEOUT - 0.2 <= elapsed <= HEADER_TIMEOUT + 1.5

    async def test_a_connection_that_sends_nothing_is_closed(
        self, raw: tuple[asyncio.StreamReader, asyncio.StreamWriter]
    ) -> None:
        reader, _ = raw

        elapsed = await closed_after(reader, time.monotonic(), limit=HEADER_TIMEOUT + 5)

        assert elapsed <= HEADER_TIMEOUT + 1.5

    async def test_an_idle_keep_alive_connection_is_closed_after_its_timeout(
        self, raw: tuple[asyncio.StreamReader, asyncio.StreamWriter]
    ) -> None:
        reader, writer = raw
        writer.write(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        started = time.monotonic()

        elapsed = await closed_after(reader, started, limit=KEEP_ALIVE + 5)

        assert head.startswith(b"HTTP/1.1 200")
        assert elapsed <= KEEP_ALIVE + 1

    async def test_keep_alive_requests_each_get_their_head_timeout(
        self, raw: tuple[asyncio.StreamReader, asyncio.StreamWriter]
    ) -> None:
        reader, writer = raw
        for _ in range(3):
            await asyncio.sleep(0.5)  # under the keep-alive timeout between requests
            writer.write(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
            assert head.startswith(b"HTTP/1.1 200")
            length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))[15:])
            await reader.readexactly(length)

    async def test_a_huge_request_head_is_431(self, raw: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        reader, writer = raw
        writer.write(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        for _ in range(10):
            writer.write(b"X-Filler: " + b"a" * 1000 + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0.01)

        answer = await asyncio.wait_for(reader.read(), timeout=5)

        assert answer.startswith(b"HTTP/1.1 431")
