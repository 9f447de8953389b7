"""What the benchmarks share: a `carpulse serve` process on a free port, and a fixed token source."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def sandbox_env(folder: Path, port: int, name: str, **settings: str) -> dict[str, str]:
    """The environment of a `carpulse serve` on the embedded defaults and the sandbox, its files in `folder`."""
    return os.environ | {
        "CARPULSE_DATABASE__URL": f"sqlite+aiosqlite:///{folder / f'{name}.db'}",
        "CARPULSE_STORAGE__URL": str(folder / f"{name}-storage"),
        "CARPULSE_SANDBOX__WAKE_DELAY_SECONDS": "0",
        "CARPULSE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "CARPULSE_TESLA__PUBLIC_KEY_PATH": str(folder / "public.pem"),
        "CARPULSE_TESLA__PRIVATE_KEY_PATH": str(folder / "private.pem"),
        "CARPULSE_LOG__LEVEL": "WARNING",
        **settings,
    }


async def migrate(env: dict[str, str]) -> None:
    await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "carpulse.cli", "migrate"], env=env, check=True, capture_output=True
    )


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
