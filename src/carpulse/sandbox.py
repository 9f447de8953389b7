"""The bundled vendor fakes, mounted under `/_sandbox/<vendor>` on the embedded default.

This is the only module of `carpulse` that imports `fakes`; settings refuse it in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from carpulse.config import Settings

SANDBOX_PATH = "/_sandbox"


@dataclass
class Sandbox:
    tesla: object  # fakes.tesla_fleet.TeslaFleetFake, typed loosely so nothing else imports fakes


def mount_sandbox(app: FastAPI, settings: Settings, redirect_uri: str) -> Sandbox:
    from fakes.tesla_fleet import TeslaFleetFake

    if settings.is_production:
        raise RuntimeError("the sandbox never runs in production")
    tesla = TeslaFleetFake(
        seed=settings.sandbox.seed,
        client_id=settings.tesla.client_id,
        client_secret=settings.tesla.client_secret.get_secret_value(),
        redirect_uris=[redirect_uri],
        wake_delay_seconds=settings.sandbox.wake_delay_seconds,
    )
    app.mount(f"{SANDBOX_PATH}/tesla", tesla.app, name="sandbox-tesla")
    return Sandbox(tesla=tesla)
