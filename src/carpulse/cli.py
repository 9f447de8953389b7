"""`carpulse serve | worker | sandbox | migrate | demo | simulate | admin hash-password | keys generate`."""

from __future__ import annotations

import contextlib
import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer
from alembic.config import Config

app = typer.Typer(help="Car Pulse service commands.", no_args_is_help=True, add_completion=False)
admin_app = typer.Typer(help="Admin account tools.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
keys_app = typer.Typer(help="The Tesla partner key pair.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    from carpulse.config import get_settings

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (database_url or get_settings().database.url).replace("%", "%%"))
    return config


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply database migrations up to REVISION."""
    from alembic import command

    from carpulse.config import get_settings
    from carpulse.kit.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log.level, settings.log.json_lines)
    command.upgrade(alembic_config(), revision)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default: HOST or 0.0.0.0)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default: PORT or 8100)")] = None,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
) -> None:
    """Serve the API with uvicorn."""
    import os

    import uvicorn

    from carpulse.config import Settings
    from carpulse.server import uvicorn_options

    overrides = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    # The app factory reads settings again in the worker process; pass the CLI's choices on.
    os.environ["CARPULSE_HOST"] = settings.host
    os.environ["CARPULSE_PORT"] = str(settings.port)
    uvicorn.run(
        "carpulse.main:app",
        host=settings.host,
        port=settings.port,
        reload=reload,
        proxy_headers=False,  # X-Forwarded-For is judged by our own trusted-proxy list
        server_header=False,
        log_config=None,
        timeout_graceful_shutdown=10,
        **uvicorn_options(settings.server),
    )


@app.command()
def worker(
    check: Annotated[
        bool, typer.Option("--check", help="exit 0 when a worker's heartbeat is fresh, 1 when not (a liveness probe)")
    ] = False,
) -> None:
    """Run jobs (report renders, webhook handling) from the Redis broker, and reconcile lost work."""
    import asyncio

    from carpulse.app import opened_state
    from carpulse.config import get_settings
    from carpulse.consumer import run_worker
    from carpulse.worker import heartbeat_age

    settings = get_settings()
    if check:
        allowed = 3 * settings.jobs.heartbeat_seconds
        age = heartbeat_age(Path(settings.jobs.heartbeat_path))
        if age is None or age > allowed:
            seen = "no heartbeat" if age is None else f"heartbeat {age:.1f} s old"
            typer.echo(f"worker dead: {seen} at {settings.jobs.heartbeat_path} (allowed {allowed:g} s)", err=True)
            raise typer.Exit(1)
        typer.echo(f"worker alive: heartbeat {age:.1f} s old")
        return
    if settings.jobs.broker != "redis":
        typer.echo(
            "`carpulse worker` consumes the Redis broker: set CARPULSE_JOBS__BROKER=redis and CARPULSE_REDIS__URL. "
            "With the in-memory broker, jobs run inside `carpulse serve`.",
            err=True,
        )
        raise typer.Exit(2)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings, opened_state))


@app.command()
def sandbox(
    host: Annotated[str | None, typer.Option(help="bind address (default: HOST or 0.0.0.0)")] = None,
    port: Annotated[
        int | None, typer.Option(help="port (default: the port of CARPULSE_SANDBOX__URL, else 8200)")
    ] = None,
) -> None:
    """Serve only the vendor fakes under /_sandbox: the one sandbox of several replicas (CARPULSE_SANDBOX__URL)."""
    from urllib.parse import urlsplit

    import uvicorn

    from carpulse.config import DEFAULT_SANDBOX_PORT, get_settings
    from carpulse.kit.logs import configure_logging
    from carpulse.sandbox import create_sandbox_app

    settings = get_settings()
    if not settings.sandbox.enabled:
        typer.echo("The sandbox is off (CARPULSE_SANDBOX__ENABLED=false); there is nothing to serve.", err=True)
        raise typer.Exit(2)
    configure_logging(settings.log.level, settings.log.json_lines)
    named = urlsplit(settings.sandbox.url).port if settings.sandbox.url else None
    uvicorn.run(
        create_sandbox_app(settings),
        host=host or settings.host,
        port=port or named or DEFAULT_SANDBOX_PORT,
        proxy_headers=False,
        server_header=False,
        log_config=None,
        timeout_graceful_shutdown=10,
    )


@app.command()
def demo(
    locale: Annotated[str, typer.Option(help="en fi sv no da de fr es it")] = "en",
    package: Annotated[str, typer.Option(help="basic, pro or bulk")] = "pro",
    account: Annotated[
        str | None,
        typer.Option(help="the sandbox Tesla account (default: solo; family for bulk, which needs several cars)"),
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for the report PDF, report HTML and receipt PDF")] = Path(
        "var/demo"
    ),
    base_url: Annotated[
        str | None, typer.Option(help="a running server, e.g. http://localhost:8100 (default: in-process)")
    ] = None,
) -> None:
    """Walk the sandbox flow (connect → select → quote → pay → report → receipt) and save the documents."""
    import asyncio

    from alembic import command

    from carpulse.config import get_settings
    from carpulse.demo import DemoFailed, run_demo
    from carpulse.kit.i18n import LOCALES

    if locale not in LOCALES or package not in ("basic", "pro", "bulk"):
        typer.echo(f"--locale is one of {' '.join(LOCALES)}; --package is basic, pro or bulk", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    # The terminal shows the demo's progress; the app's own request logs would drown it.
    settings = settings.model_copy(update={"log": settings.log.model_copy(update={"level": "WARNING"})})
    if base_url is None:
        if not settings.sandbox.enabled:
            typer.echo("The in-process demo needs the sandbox (not available in production).", err=True)
            raise typer.Exit(2)
        command.upgrade(alembic_config(), "head")
    try:
        result = asyncio.run(
            run_demo(
                base_url=base_url,
                settings=settings,
                locale=locale,
                package=package,
                out=out,
                account=account,
                echo=typer.echo,
            )
        )
    except DemoFailed as exc:
        typer.echo(f"demo failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"VIN {result.vin} · order {result.order_id} · session {result.session_id}")
    typer.echo(f"receipt {result.receipt_id}")
    for path in result.reports[2:]:
        typer.echo(f"{'report PDF' if path.suffix == '.pdf' else 'report HTML':12} {path}")
    for label, path in (
        ("report PDF", result.report_pdf),
        ("report HTML", result.report_html),
        ("receipt PDF", result.receipt_pdf),
    ):
        typer.echo(f"{label:12} {path}")
    # Whole ids, so that a newcomer can go on by hand from where the demo stopped.
    typer.echo(f"next: GET /api/v1/tesla/report/{result.order_id} · GET /api/v1/payment/receipt/{result.order_id}")


@app.command()
def simulate(
    vehicles: Annotated[int, typer.Option(min=1, max=1_000_000, help="how many vehicles")] = 100,
    months: Annotated[int, typer.Option(min=1, max=240, help="months of weekly readings before --until")] = 12,
    seed: Annotated[int, typer.Option(help="the same seed and --until give the same fleet")] = 7,
    until: Annotated[str | None, typer.Option(help="last day of readings, YYYY-MM-DD (default: today, UTC)")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the vehicles written as JSON")] = False,
) -> None:
    """Write a synthetic fleet (readings marked synthetic, never mixed with real ones); refused in production."""
    import asyncio
    import json
    from datetime import UTC, date, datetime

    from carpulse.config import get_settings

    settings = get_settings()
    if settings.is_production:
        typer.echo(
            "carpulse simulate is refused in production (CARPULSE_ENVIRONMENT=production): it writes synthetic "
            "vehicle data, which belongs in development and test databases only.",
            err=True,
        )
        raise typer.Exit(2)
    try:
        last = date.fromisoformat(until) if until is not None else datetime.now(UTC).date()
    except ValueError as exc:
        typer.echo(f"--until is a date, YYYY-MM-DD; {until!r} is not one", err=True)
        raise typer.Exit(2) from exc

    async def run() -> tuple[list[dict[str, object]], int]:
        from carpulse.database import create_engine, create_sessionmaker
        from carpulse.simulator.service import simulator

        engine = create_engine(settings.database)
        try:
            async with create_sessionmaker(engine)() as session:
                simulation = await simulator.simulate(session, vehicles=vehicles, months=months, seed=seed, until=last)
                await session.commit()
        finally:
            await engine.dispose()
        listed: list[dict[str, object]] = [
            {
                "vin": vehicle.vin,
                "make": vehicle.make,
                "model": vehicle.model,
                "model_id": vehicle.model_id,
                "observations": len(vehicle.readings),
            }
            for vehicle in simulation.vehicles
        ]
        return listed, simulation.written

    listed, written = asyncio.run(run())
    if json_output:
        typer.echo(json.dumps({"vehicles": listed, "written": written}))
    else:
        typer.echo(f"{len(listed)} simulated vehicles up to {last.isoformat()}: {written} new readings written")


@admin_app.command("hash-password")
def hash_password_command(
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Print an argon2 hash for ADMIN_PASSWORD_HASH."""
    from carpulse.kit.passwords import hash_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            typer.echo("The passwords differ.", err=True)
            raise typer.Exit(1)
    if len(password) < 8:
        typer.echo("Use at least 8 characters.", err=True)
        raise typer.Exit(1)
    typer.echo(hash_password(password))


@keys_app.command("generate")
def generate_keys(
    overwrite: Annotated[bool, typer.Option(help="replace an existing pair (Tesla must then re-register)")] = False,
) -> None:
    """Write an EC P-256 key pair to CARPULSE_TESLA__PRIVATE_KEY_PATH / PUBLIC_KEY_PATH."""
    from carpulse.config import get_settings
    from carpulse.kit.logs import configure_logging
    from carpulse.partner_key.service import partner_key

    settings = get_settings()
    configure_logging(settings.log.level, settings.log.json_lines, stream=sys.stderr)  # stdout is the key
    try:
        pem = partner_key.generate(
            Path(settings.tesla.private_key_path), Path(settings.tesla.public_key_path), overwrite=overwrite
        )
    except FileExistsError as exc:
        typer.echo(f"{exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(pem, nl=False)


def main() -> None:
    """Every command; settings that do not validate are listed one per line, without a traceback."""
    from pydantic import ValidationError

    from carpulse.config import Settings, settings_problems

    try:
        app()
    except ValidationError as exc:
        if exc.title != Settings.__name__:
            raise
        problems = settings_problems(exc)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        typer.echo(f"carpulse: refusing to start, {count} in the settings:", err=True)
        for problem in problems:
            typer.echo(f"  - {problem}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
