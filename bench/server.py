"""What the benchmarks share: a `carpulse serve` process on a free port, and a fixed token source."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`carpulse serve` on 127.0.0.1:port with these environment variables, stopped afterwards."""
    server = subprocess.Popen(
        [sys.executable, "-m", "carpulse.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


async def wait_live(client: httpx.AsyncClient, attempts: int = 300) -> None:
    for _ in range(attempts):
        try:
            if (await client.get("/health/live")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("the server did not come up")


class StaticTokens:
    """A token source for our Tesla client holding one access token (the fakes' tokens do not expire here)."""

    def __init__(self, access: str) -> None:
        self.access = access

    async def access_token(self) -> str:
        return self.access

    async def refreshed_access_token(self, rejected: str) -> str:
        return self.access
