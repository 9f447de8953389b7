"""Charging invoices and history under `/api/v1/{brand}/session/{id}/…` and `/api/v1/{brand}/orders/{id}/…`.

A brand with `Capability.charging_history` gets this mount (`charging_router`); the invoice endpoints
only with `Capability.charging_invoices`. The same endpoints are mounted for a connect session and
for a paid order (which outlives the session and reads only the vehicles paid for). No
`from __future__ import annotations` here: the endpoints are defined per brand and access kind, and
FastAPI must see their `Annotated` parameters as objects.
"""

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import StreamingResponse

from carpulse.charging.dependencies import ChargingHistoryDep
from carpulse.charging.errors import InvoiceNotFound
from carpulse.charging.names import content_disposition
from carpulse.charging.schemas import ChargingInvoices, Months
from carpulse.charging.service import Download, charging
from carpulse.connect.errors import ConnectSessionNotFound
from carpulse.database import SessionDep
from carpulse.errors import CarPulseError, DependencyUnavailable, RateLimited, ValidationFailed, problem_responses
from carpulse.provider.base import BrandInfo, Capability
from carpulse.provider.errors import (
    MissingScopes,
    ProviderError,
    ProviderNotRegistered,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    ProviderVehicleNotFound,
    ReauthorizationRequired,
)
from carpulse.rate_limit import limit_by_ip_and_owner
from carpulse.state import get_state
from carpulse.vehicle.dependencies import get_order_access, get_session_access
from carpulse.vehicle.errors import PaidOrderNotFound, VehicleNotFound
from carpulse.vehicle.service import VehicleAccess

Vin = Annotated[str, Path(min_length=17, max_length=17, pattern=r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$")]
# A brand raises its own subclasses of these, which answer with the brand's own problem types.
_UPSTREAM_ERRORS: tuple[type[CarPulseError], ...] = (
    ProviderVehicleNotFound,
    ReauthorizationRequired,
    MissingScopes,
    ProviderError,
    ProviderNotRegistered,
    ProviderUnavailable,
    ProviderRateLimited,
    ProviderTimeout,
    DependencyUnavailable,
)
_DISPOSITION = {
    "Content-Disposition": {"description": "attachment, with a safe file name", "schema": {"type": "string"}}
}


def _binary(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
            "headers": _DISPOSITION,
        }
    }


def _download(download: Download) -> Response:
    """The file with its name, never cached on the way."""
    headers = {"Content-Disposition": content_disposition(download.file_name), "Cache-Control": "private, no-store"}
    if isinstance(download.content, bytes):
        return Response(download.content, media_type=download.media_type, headers=headers)
    # Proxies that buffer (nginx) would hold the ZIP back until the end.
    headers["X-Accel-Buffering"] = "no"
    return StreamingResponse(download.content, media_type=download.media_type, headers=headers)


def charging_router(info: BrandInfo) -> APIRouter:
    """The brand's charging endpoints under `/{info.name}` (none for a brand without a charging history)."""
    router = APIRouter(prefix=f"/{info.name}", tags=["charging"])
    if info.can(Capability.charging_history):
        _mount(router, info, "/session/{session_id}", get_session_access, "session")
        _mount(router, info, "/orders/{order_id}", get_order_access, "order")
    return router


def _mount(
    router: APIRouter,
    info: BrandInfo,
    path: str,
    access_of: Callable[..., Coroutine[Any, Any, VehicleAccess]],
    owner: str,
) -> None:
    """The endpoints under `path` (`/session/{session_id}` or `/orders/{order_id}`): five with invoices, else two."""
    Access = Annotated[VehicleAccess, Depends(access_of)]  # noqa: N806 - a type alias, named like one
    InvoiceId = Annotated[  # noqa: N806 - a type alias, named like one
        str,
        Path(
            min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$", description=f"{info.label}'s invoice content id"
        ),
    ]
    invoices_too = info.can(Capability.charging_invoices)
    not_found = ConnectSessionNotFound if owner == "session" else PaidOrderNotFound
    upstream = tuple(info.problem(kind) if issubclass(kind, ProviderError) else kind for kind in _UPSTREAM_ERRORS)
    access_errors = (not_found, VehicleNotFound, ValidationFailed, RateLimited, *upstream)
    # Per client IP and per session (or order), by cost: see the README's rate-limit table.
    owner_param = f"{owner}_id"
    history_reads = [Depends(limit_by_ip_and_owner("charging_history", owner_param))]
    invoices = [Depends(limit_by_ip_and_owner("invoice", owner_param))]
    archives = [Depends(limit_by_ip_and_owner("invoice_zip", owner_param))]

    def now(request: Request) -> datetime:
        return get_state(request).clock.now()

    @router.get(
        f"{path}/vehicles/{{vin}}/charging-invoices",
        response_model=ChargingInvoices,
        dependencies=history_reads,
        responses=problem_responses(*access_errors),
        summary=f"A vehicle's charging sessions, invoices and totals ({owner})",
        description="Sessions with site, times, kWh, fees by type and invoice ids; totals per month and per "
        "currency (amounts in different currencies are never added up); the lookback window used.",
    )
    async def charging_invoices(
        request: Request, access: Access, history: ChargingHistoryDep, vin: Vin, db: SessionDep, months: Months = 24
    ) -> ChargingInvoices:
        base = request.url.path if invoices_too else None
        return await charging.invoices(db, access, history, vin, months, now(request), download_base=base)

    if invoices_too:

        @router.get(
            f"{path}/vehicles/{{vin}}/charging-invoices.zip",
            response_class=Response,
            dependencies=archives,
            responses={
                **_binary(
                    "application/zip", "streamed: the invoice PDFs, `ledger.csv`, and `errors.txt` if any failed"
                ),
                **problem_responses(*access_errors),
            },
            summary=f"A vehicle's charging invoices as one ZIP with a ledger ({owner})",
        )
        async def vehicle_invoices_zip(
            request: Request, access: Access, history: ChargingHistoryDep, vin: Vin, db: SessionDep, months: Months = 24
        ) -> Response:
            return _download(await charging.vehicle_archive(db, access, info, history, vin, months, now(request)))

        @router.get(
            f"{path}/charging-invoices.zip",
            response_class=Response,
            dependencies=archives,
            responses={
                **_binary(
                    "application/zip", "streamed: a folder `{vehicle-name}-{vin-suffix}/` per vehicle, `ledger.csv`"
                ),
                **problem_responses(not_found, ValidationFailed, RateLimited, *upstream),
            },
            summary=f"Every vehicle's charging invoices as one ZIP with a ledger ({owner})",
        )
        async def all_invoices_zip(
            request: Request, access: Access, history: ChargingHistoryDep, db: SessionDep, months: Months = 24
        ) -> Response:
            return _download(await charging.session_archive(db, access, info, history, months, now(request)))

        @router.get(
            f"{path}/vehicles/{{vin}}/charging-invoices/{{invoice_id}}",
            response_class=Response,
            dependencies=invoices,
            responses={
                **_binary("application/pdf", f"the invoice as {info.label} issued it"),
                **problem_responses(*access_errors, InvoiceNotFound),
            },
            summary=f"One charging invoice PDF of the vehicle's last 24 months ({owner})",
        )
        async def invoice_pdf(
            request: Request,
            access: Access,
            history: ChargingHistoryDep,
            vin: Vin,
            invoice_id: InvoiceId,
            db: SessionDep,
        ) -> Response:
            return _download(await charging.invoice_pdf(db, access, info, history, vin, invoice_id, now(request)))

    @router.get(
        f"{path}/vehicles/{{vin}}/charging-history.csv",
        response_class=Response,
        dependencies=history_reads,
        responses={
            **_binary("text/csv", "every charging session of the window, oldest first (columns: see README)"),
            **problem_responses(*access_errors),
        },
        summary=f"A vehicle's charging history as CSV ({owner})",
    )
    async def history_csv(
        request: Request, access: Access, history: ChargingHistoryDep, vin: Vin, db: SessionDep, months: Months = 24
    ) -> Response:
        return _download(await charging.history_csv(db, access, history, vin, months, now(request)))
