"""`/logbook/cars`: a driver's cars (add, edit, delete, share by e-mail) and their phones' webhook tokens.

A new token is shown once, with the iPhone Shortcut's setup step by step and a QR code of each URL
(SVG drawn here by segno: no script, no inline style).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import segno
from fastapi import Depends, Form, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import ValidationError

from carpulse.car.errors import CarDriverExists, CarDriverNotFound, CarNotFound, WebhookTokenNotFound
from carpulse.car.schemas import CarCreate, CarDriverAdd, CarRead, CarUpdate, WebhookTokenCreate, WebhookUrls
from carpulse.car.service import cars, webhook_tokens, webhook_urls
from carpulse.database import SessionDep
from carpulse.models import Account, Car, CarRole
from carpulse.state import get_state
from carpulse.vin.errors import InvalidVin
from carpulse.web.csrf import verify_csrf
from carpulse.web.logbook.view import blank_is_none, field_errors
from carpulse.web.pages import PageError, page_router, redirect, render_page
from carpulse.web.session import PageDriver

router = page_router()

_BACK_TO_CARS = ("web.logbook.cars.back", "/logbook/cars")
CAR_FIELDS = ("name", "brand", "model", "plate", "vin", "odometer_start_km")


def _car_not_found() -> PageError:
    return PageError(404, "web.logbook.car.not_found", action=_BACK_TO_CARS)


def _car_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise _car_not_found() from exc


async def _car(db: SessionDep, account: Account, car_id: str) -> tuple[Car, CarRead]:
    parsed = _car_id(car_id)
    try:
        car, _ = await cars.get(db, account, parsed)
        return car, await cars.read(db, account, parsed)
    except CarNotFound as exc:
        raise _car_not_found() from exc


def _car_form(values: dict[str, str]) -> dict[str, Any]:
    return {name: blank_is_none(values.get(name)) for name in CAR_FIELDS}


def qr_svg(url: str, title: str) -> Markup:
    """`url` as a QR code, inline SVG (attributes only: the page CSP allows no inline style)."""
    svg = segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff", title=title, svgclass="qr")
    return Markup(svg)  # noqa: S704 - segno's SVG of our own URL, its title escaped by segno


@router.get("/logbook/cars")
async def car_list(request: Request, db: SessionDep, account: PageDriver) -> Response:
    return render_page(request, "pages/logbook/cars.html", cars=await cars.of_driver(db, account), values={}, errors={})


@router.post("/logbook/cars", dependencies=[Depends(verify_csrf)])
async def add_car(
    request: Request,
    db: SessionDep,
    account: PageDriver,
    name: Annotated[str, Form(max_length=200)] = "",
    brand: Annotated[str, Form(max_length=200)] = "",
    model: Annotated[str, Form(max_length=200)] = "",
    plate: Annotated[str, Form(max_length=200)] = "",
    vin: Annotated[str, Form(max_length=200)] = "",
    odometer_start_km: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    values = {"name": name, "brand": brand, "model": model, "plate": plate, "vin": vin}
    values["odometer_start_km"] = odometer_start_km
    try:
        body = CarCreate.model_validate({k: v for k, v in _car_form(values).items() if v is not None})
        created = await cars.create(db, account, body)
    except ValidationError as exc:
        return await _car_list_with_errors(request, db, account, values, field_errors(exc))
    except InvalidVin:
        return await _car_list_with_errors(request, db, account, values, {"vin": "web.logbook.car.vin_invalid"})
    return redirect(request, f"/logbook/cars/{created.id}?added=1")


async def _car_list_with_errors(
    request: Request, db: SessionDep, account: Account, values: dict[str, str], errors: dict[str, str]
) -> Response:
    return render_page(
        request,
        "pages/logbook/cars.html",
        status_code=422,
        cars=await cars.of_driver(db, account),
        values=values,
        errors=errors,
    )


async def _car_page(
    request: Request,
    db: SessionDep,
    account: Account,
    car_id: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    car, read = await _car(db, account, car_id)
    tokens = await webhook_tokens.of_car(db, account, car)
    values = context.pop("values", None) or {
        name: "" if getattr(read, name) is None else str(getattr(read, name)) for name in CAR_FIELDS
    }
    return render_page(
        request,
        "pages/logbook/car.html",
        status_code=status_code,
        car=read,
        owner=read.role is CarRole.owner,
        tokens=tokens,
        values=values,
        errors=context.pop("errors", {}),
        share_email=context.pop("share_email", ""),
        share_error=context.pop("share_error", None),
        token_error=context.pop("token_error", None),
        added_notice="web.logbook.car.added" if request.query_params.get("added") else None,
        **context,
    )


@router.get("/logbook/cars/{car_id}")
async def car_page(request: Request, db: SessionDep, account: PageDriver, car_id: str) -> Response:
    return await _car_page(request, db, account, car_id)


@router.post("/logbook/cars/{car_id}", dependencies=[Depends(verify_csrf)])
async def edit_car(
    request: Request,
    db: SessionDep,
    account: PageDriver,
    car_id: str,
    name: Annotated[str, Form(max_length=200)] = "",
    brand: Annotated[str, Form(max_length=200)] = "",
    model: Annotated[str, Form(max_length=200)] = "",
    plate: Annotated[str, Form(max_length=200)] = "",
    vin: Annotated[str, Form(max_length=200)] = "",
    odometer_start_km: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    _, read = await _car(db, account, car_id)
    values = {"name": name, "brand": brand, "model": model, "plate": plate, "vin": vin}
    values["odometer_start_km"] = odometer_start_km
    form = _car_form(values)
    if form["name"] is None:
        return await _car_page(
            request, db, account, car_id, status_code=422, values=values, errors={"name": "web.logbook.form.required"}
        )
    try:
        body = CarUpdate.model_validate(form)
        await cars.update(db, account, read.id, body)
    except ValidationError as exc:
        return await _car_page(request, db, account, car_id, status_code=422, values=values, errors=field_errors(exc))
    except InvalidVin:
        errors = {"vin": "web.logbook.car.vin_invalid"}
        return await _car_page(request, db, account, car_id, status_code=422, values=values, errors=errors)
    return redirect(request, f"/logbook/cars/{read.id}")


@router.post("/logbook/cars/{car_id}/delete", dependencies=[Depends(verify_csrf)])
async def delete_car(request: Request, db: SessionDep, account: PageDriver, car_id: str) -> Response:
    _, read = await _car(db, account, car_id)
    await cars.delete(db, account, read.id)
    webhook_tokens.forget(get_state(request).replica_caches)
    return redirect(request, "/logbook/cars")


@router.post("/logbook/cars/{car_id}/drivers", dependencies=[Depends(verify_csrf)])
async def share_car(
    request: Request, db: SessionDep, account: PageDriver, car_id: str, email: Annotated[str, Form(max_length=320)] = ""
) -> Response:
    _, read = await _car(db, account, car_id)
    try:
        body = CarDriverAdd.model_validate({"email": email.strip()})
        await cars.add_driver(db, account, read.id, str(body.email))
    except ValidationError:
        return await _car_page(
            request, db, account, car_id, status_code=422, share_email=email, share_error="web.logbook.form.email"
        )
    except CarDriverExists:
        return await _car_page(
            request,
            db,
            account,
            car_id,
            status_code=409,
            share_email=email,
            share_error="web.logbook.car.shared_already",
        )
    return redirect(request, f"/logbook/cars/{read.id}")


@router.post("/logbook/cars/{car_id}/drivers/{driver_id}/remove", dependencies=[Depends(verify_csrf)])
async def unshare_car(request: Request, db: SessionDep, account: PageDriver, car_id: str, driver_id: str) -> Response:
    _, read = await _car(db, account, car_id)
    state = get_state(request)
    try:
        await cars.remove_driver(db, account, read.id, uuid.UUID(driver_id), state.clock)
    except (ValueError, CarDriverNotFound) as exc:
        raise PageError(
            404, "web.logbook.car.driver_not_found", action=("web.logbook.car.back", f"/logbook/cars/{read.id}")
        ) from exc
    webhook_tokens.forget(state.replica_caches)
    return redirect(request, f"/logbook/cars/{read.id}")


@router.post("/logbook/cars/{car_id}/tokens", dependencies=[Depends(verify_csrf)])
async def create_token(
    request: Request, db: SessionDep, account: PageDriver, car_id: str, name: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    car, read = await _car(db, account, car_id)
    try:
        body = WebhookTokenCreate.model_validate({"name": name} if name.strip() else {})
    except ValidationError:
        return await _car_page(request, db, account, car_id, status_code=422, token_error="web.logbook.form.too_long")  # noqa: S106 - a message id
    state = get_state(request)
    row, token = await webhook_tokens.create(db, state.settings, account, car, body.name, state.clock)
    urls = webhook_urls(state.settings, token)
    response = render_page(
        request,
        "pages/logbook/token_created.html",
        status_code=201,
        car=read,
        token_row=row,
        token=token,
        urls=urls,
        codes=_codes(request, urls),
        base_url=state.settings.base_url,
    )
    response.headers["cache-control"] = "no-store"
    return response


def _codes(request: Request, urls: WebhookUrls) -> dict[str, Markup]:
    return {kind: qr_svg(getattr(urls, kind), f"{kind}: {getattr(urls, kind)}") for kind in ("start", "ping", "end")}


@router.post("/logbook/cars/{car_id}/tokens/{token_id}/revoke", dependencies=[Depends(verify_csrf)])
async def revoke_token(request: Request, db: SessionDep, account: PageDriver, car_id: str, token_id: str) -> Response:
    car, read = await _car(db, account, car_id)
    state = get_state(request)
    cache = webhook_tokens.cache(state.replica_caches, state.settings)
    try:
        await webhook_tokens.revoke(db, account, car, uuid.UUID(token_id), state.clock, cache)
    except (ValueError, WebhookTokenNotFound) as exc:
        raise PageError(
            404, "web.logbook.token.not_found", action=("web.logbook.car.back", f"/logbook/cars/{read.id}")
        ) from exc
    return redirect(request, f"/logbook/cars/{read.id}")
