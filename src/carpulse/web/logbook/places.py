"""`/logbook/places` (known places on a map and in a list: add, rename, move, resize, delete) and
`/logbook/stations` (charging stations near a point: a trip's end, a place, a click on the map)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from carpulse.charging_station.errors import ChargingStationsUnavailable
from carpulse.charging_station.schemas import MAX_RADIUS_KM
from carpulse.charging_station.service import charging_stations
from carpulse.database import SessionDep
from carpulse.logbook.service import relabel
from carpulse.models import Account, PlaceKind
from carpulse.place.errors import PlaceNotFound
from carpulse.place.schemas import PlaceCreate, PlaceUpdate
from carpulse.place.service import places
from carpulse.rate_limit import enforce
from carpulse.state import get_state
from carpulse.web.csrf import verify_csrf
from carpulse.web.locale import page_locale
from carpulse.web.logbook.view import LogbookFormat, blank_is_none, field_errors
from carpulse.web.pages import PageError, page_router, redirect, render_page
from carpulse.web.session import PageDriver

router = page_router()

_BACK_TO_PLACES = ("web.logbook.places.back", "/logbook/places")
PLACE_FIELDS = ("name", "kind", "lat", "lon", "radius_m")
KINDS = tuple(kind.value for kind in PlaceKind)


def _not_found() -> PageError:
    return PageError(404, "web.logbook.place.not_found", action=_BACK_TO_PLACES)


def _form(values: dict[str, str]) -> dict[str, Any]:
    return {name: blank_is_none(values.get(name)) for name in PLACE_FIELDS}


async def _places_page(
    request: Request, db: SessionDep, account: Account, *, status_code: int = 200, **context: Any
) -> Response:
    settings = get_state(request).settings
    return render_page(
        request,
        "pages/logbook/places.html",
        status_code=status_code,
        places=await places.of_driver(db, settings, account),
        kinds=KINDS,
        default_radius=int(settings.logbook.place_radius_m),
        values=context.pop("values", {}),
        errors=context.pop("errors", {}),
        saved=request.query_params.get("saved"),
    )


@router.get("/logbook/places")
async def place_list(request: Request, db: SessionDep, account: PageDriver) -> Response:
    return await _places_page(request, db, account)


@router.post("/logbook/places", dependencies=[Depends(verify_csrf)])
async def add_place(
    request: Request,
    db: SessionDep,
    account: PageDriver,
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "other",
    lat: Annotated[str, Form(max_length=40)] = "",
    lon: Annotated[str, Form(max_length=40)] = "",
    radius_m: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    values = {"name": name, "kind": kind, "lat": lat, "lon": lon, "radius_m": radius_m}
    form = {key: value for key, value in _form(values).items() if value is not None or key in ("lat", "lon", "name")}
    try:
        body = PlaceCreate.model_validate(form)
    except ValidationError as exc:
        return await _places_page(request, db, account, status_code=422, values=values, errors=field_errors(exc))
    settings = get_state(request).settings
    _, known = await places.create(db, settings, account, body)
    count = await relabel(db, settings, account, [known])
    return redirect(request, f"/logbook/places?saved={count}")


async def _place(db: SessionDep, account: Account, place_id: str) -> Any:
    try:
        return await places.get(db, account, uuid.UUID(place_id))
    except (ValueError, PlaceNotFound) as exc:
        raise _not_found() from exc


@router.get("/logbook/places/{place_id}")
async def place_page(request: Request, db: SessionDep, account: PageDriver, place_id: str) -> Response:
    row = await _place(db, account, place_id)
    read = places.read(row)
    values = {name: str(getattr(read, name).value if name == "kind" else getattr(read, name)) for name in PLACE_FIELDS}
    return render_page(request, "pages/logbook/place.html", place=read, kinds=KINDS, values=values, errors={})


@router.post("/logbook/places/{place_id}", dependencies=[Depends(verify_csrf)])
async def edit_place(
    request: Request,
    db: SessionDep,
    account: PageDriver,
    place_id: str,
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "other",
    lat: Annotated[str, Form(max_length=40)] = "",
    lon: Annotated[str, Form(max_length=40)] = "",
    radius_m: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    row = await _place(db, account, place_id)
    values = {"name": name, "kind": kind, "lat": lat, "lon": lon, "radius_m": radius_m}
    form = _form(values)
    missing = {key: "web.logbook.form.required" for key in PLACE_FIELDS if form[key] is None}
    try:
        if missing:
            raise ValueError
        body = PlaceUpdate.model_validate(form)
    except (ValidationError, ValueError) as exc:
        errors = missing | (field_errors(exc) if isinstance(exc, ValidationError) else {})
        return render_page(
            request,
            "pages/logbook/place.html",
            status_code=422,
            place=places.read(row),
            kinds=KINDS,
            values=values,
            errors=errors,
        )
    settings = get_state(request).settings
    _, before, after = await places.update(db, account, row.id, body)
    count = await relabel(db, settings, account, [before, after])
    return redirect(request, f"/logbook/places?saved={count}")


@router.post("/logbook/places/{place_id}/delete", dependencies=[Depends(verify_csrf)])
async def delete_place(request: Request, db: SessionDep, account: PageDriver, place_id: str) -> Response:
    row = await _place(db, account, place_id)
    before = await places.delete(db, account, row.id)
    await relabel(db, get_state(request).settings, account, [before])
    return redirect(request, "/logbook/places")


@router.get("/logbook/stations")
async def stations(
    request: Request,
    account: PageDriver,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    radius_km: Annotated[float, Query(gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)] = 2.0,
) -> Response:
    await enforce(request, "charging_stations", "driver", str(account.id))
    try:
        found = await charging_stations.near(get_state(request), lat, lon, radius_km=radius_km, limit=20)
    except ChargingStationsUnavailable as exc:
        raise PageError(
            503, "web.logbook.stations.unavailable", action=("web.logbook.stations.retry", str(request.url))
        ) from exc
    return render_page(
        request,
        "pages/logbook/stations.html",
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        found=found,
        lfmt=LogbookFormat(page_locale(request)),
    )
