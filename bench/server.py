"""What the benchmarks share: a `carpulse serve` process on a free port, a PostgreSQL database of their own,
and a fixed token source."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy.engine import URL, make_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    env: dict[str, str], port: int, command: list[str] | None = None, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`carpulse serve` (or another server's `python -m` command) on 127.0.0.1:port with these environment
    variables, its output to `log` if given, stopped afterwards."""
    arguments = command or ["carpulse.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with contextlib.ExitStack() as files:
        sink = files.enter_context(log.open("ab")) if log is not None else subprocess.DEVNULL
        server = subprocess.Popen(
            [sys.executable, "-m", *arguments], env=env, stdout=sink, stderr=subprocess.STDOUT if log else sink
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


async def wait_live(client: httpx.AsyncClient, attempts: int = 300, path: str = "/health/live") -> None:
    for _ in range(attempts):
        try:
            if (await client.get(path)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("the server did not come up")


@contextlib.asynccontextmanager
async def own_database(url: str, name: str, *, drop: bool) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """The database `name` dropped and created on the PostgreSQL server of `url`: its SQLAlchemy URL and a
    small pool. With `drop` it is dropped again afterwards, else kept to look into."""
    base = make_url(url)
    target = base.set(database=name)

    async def administer(statement: str) -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(base.set(database="postgres")))
        try:
            await admin.execute(statement)
        finally:
            await admin.close()

    await administer(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await administer(f'CREATE DATABASE "{name}"')
    try:
        pool = await asyncpg.create_pool(_asyncpg_dsn(target), min_size=1, max_size=3)
        try:
            yield target.render_as_string(hide_password=False), pool
        finally:
            await pool.close()
    finally:
        if drop:
            await administer(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class StaticTokens:
    """A token source for our Tesla client holding one access token (the fakes' tokens do not expire here)."""

    def __init__(self, access: str) -> None:
        self.access = access

    async def access_token(self) -> str:
        return self.access

    async def refreshed_access_token(self, rejected: str) -> str:
        return self.access
