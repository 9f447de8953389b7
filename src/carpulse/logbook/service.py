"""Re-labelling trips when a place changes; a driver's export (one ZIP) and erasure."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.kit.logs import get_logger
from carpulse.logbook.schemas import Erased
from carpulse.models import (
    Account,
    Car,
    CarDriver,
    CarRole,
    Place,
    Trip,
    TripChange,
    TripChangeKind,
    TripEvent,
    WebhookToken,
)
from carpulse.models.base import utcnow
from carpulse.place.service import KnownPlace, bounds, places
from carpulse.trip.measure import label
from carpulse.trip.repository import TripRepository
from carpulse.trip.service import change, gpx_document, shape

if TYPE_CHECKING:
    from carpulse.config import Settings

log = get_logger("carpulse.logbook")

LOCKED_NOTE = (
    "Trips locked in a tax logbook are kept for the retention period the tax law sets "
    "(e.g. 6 years in Finland), without your name or account; everything else is gone."
)


async def relabel(db: AsyncSession, settings: Settings, driver: Account, changed: Sequence[KnownPlace]) -> int:
    """Label again the driver's unlocked trips with an end near any of these places (before or after the change)."""
    near = []
    for place in changed:
        south, north, west, east = bounds(place)
        for lat, lon in ((Trip.start_lat, Trip.start_lon), (Trip.end_lat, Trip.end_lon)):
            near.append(and_(lat.between(south, north), lon.between(west, east)))
    statement = select(Trip).where(
        Trip.driver_id == driver.id, Trip.locked_at.is_(None), Trip.deleted_at.is_(None), or_(*near)
    )
    known = await places.known(db, settings, driver.id)
    count = 0
    for trip in (await db.execute(statement)).scalars():
        before = {"start_place": trip.start_place, "end_place": trip.end_place}
        if await label(db, settings, trip, known):
            after = {"start_place": trip.start_place, "end_place": trip.end_place}
            db.add(change(trip, driver, TripChangeKind.relabelled, utcnow(), before=before, after=after))
            count += 1
    await db.flush()
    return count


def _rows(items: Sequence[Any], fields: Sequence[str]) -> list[dict[str, Any]]:
    return [{field: getattr(item, field) for field in fields} for item in items]


async def export(db: AsyncSession, settings: Settings, driver: Account) -> bytes:
    """Everything we hold about the driver: JSON files and every trip's track as GPX, one ZIP."""
    repository = TripRepository(db)
    memberships = list((await db.execute(select(CarDriver).where(CarDriver.account_id == driver.id))).scalars())
    car_ids = [m.car_id for m in memberships]
    cars = list((await db.execute(select(Car).where(Car.id.in_(car_ids)))).scalars()) if car_ids else []
    own_places = list((await db.execute(select(Place).where(Place.account_id == driver.id))).scalars())
    tokens = list((await db.execute(select(WebhookToken).where(WebhookToken.driver_id == driver.id))).scalars())
    driven = list(
        (await db.execute(select(Trip).where(Trip.driver_id == driver.id).order_by(Trip.started_at))).scalars()
    )
    changes = list((await db.execute(select(TripChange).where(TripChange.account_id == driver.id))).scalars())
    tracks = [(trip, await repository.fixes(trip.id)) for trip in driven]
    documents: dict[str, Any] = {
        "account.json": {
            "id": driver.id,
            "email": driver.email,
            "created_at": driver.created_at,
            "last_login_at": driver.last_login_at,
        },
        "cars.json": [
            {
                **_rows([car], ["id", "name", "brand", "model", "plate", "vin", "odometer_start_km", "created_at"])[0],
                "role": next(m.role.value for m in memberships if m.car_id == car.id),
            }
            for car in cars
        ],
        "places.json": _rows(own_places, ["id", "name", "kind", "lat", "lon", "radius_m", "created_at"]),
        "webhook_tokens.json": _rows(
            tokens, ["id", "car_id", "name", "display_prefix", "created_at", "last_used_at", "revoked_at"]
        ),
        "trips.json": [shape(trip).model_dump(mode="json") for trip in driven],
        "trip_changes.json": _rows(changes, ["id", "trip_id", "kind", "at", "before", "after"]),
        "fixes.json": [
            {
                "trip_id": trip.id,
                "fixes": _rows(
                    events,
                    [
                        "kind",
                        "at",
                        "lat",
                        "lon",
                        "accuracy_m",
                        "altitude_m",
                        "speed_mps",
                        "heading_deg",
                        "odometer_km",
                        "battery_pct",
                        "received_at",
                    ],
                ),
            }
            for trip, events in tracks
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in documents.items():
            archive.writestr(name, json.dumps(content, default=str, indent=2, ensure_ascii=False))
        archive.writestr("trips.gpx", gpx_document(tracks))
        archive.writestr(
            "README.txt",
            "Your Car Pulse Logbook data: account, cars, places, webhook tokens (never their secrets), trips, "
            "every fix of every trip (fixes.json and trips.gpx) and the changes you made to trips.\n",
        )
    log.info("logbook.exported", account_id=str(driver.id), trips=len(driven))
    return buffer.getvalue()


async def erase(db: AsyncSession, driver: Account) -> Erased:
    """Delete the driver's Logbook data and account; trips locked for the tax logbook stay, without the driver."""
    locked = func.count().filter(Trip.locked_at.is_not(None))
    kept = int(await db.scalar(select(locked).where(Trip.driver_id == driver.id)) or 0)
    unlocked = select(Trip.id).where(Trip.driver_id == driver.id, Trip.locked_at.is_(None))
    events = await db.execute(
        delete(TripEvent).where(
            or_(TripEvent.trip_id.in_(unlocked), and_(TripEvent.driver_id == driver.id, TripEvent.trip_id.is_(None)))
        )
    )
    await db.execute(delete(TripChange).where(TripChange.trip_id.in_(unlocked)))
    trips = await db.execute(delete(Trip).where(Trip.driver_id == driver.id, Trip.locked_at.is_(None)))
    place_rows = await db.execute(delete(Place).where(Place.account_id == driver.id))
    token_rows = await db.execute(delete(WebhookToken).where(WebhookToken.driver_id == driver.id))
    cars_deleted = handed_over = 0
    owned = (
        (await db.execute(select(CarDriver).where(CarDriver.account_id == driver.id, CarDriver.role == CarRole.owner)))
        .scalars()
        .all()
    )
    for membership in owned:
        others = (
            (
                await db.execute(
                    select(CarDriver)
                    .where(
                        CarDriver.car_id == membership.car_id,
                        CarDriver.id != membership.id,
                        CarDriver.account_id.is_not(None),
                    )
                    .order_by(CarDriver.added_at)
                )
            )
            .scalars()
            .first()
        )
        has_locked = await db.scalar(
            select(func.count()).where(Trip.car_id == membership.car_id, Trip.locked_at.is_not(None))
        )
        if others is not None:
            others.role = CarRole.owner
            handed_over += 1
        elif not has_locked:
            await db.execute(delete(Car).where(Car.id == membership.car_id))
            cars_deleted += 1
    await db.execute(delete(CarDriver).where(CarDriver.account_id == driver.id))
    await db.flush()
    account_id = driver.id
    await db.delete(driver)
    await db.flush()
    log.info("logbook.erased", account_id=str(account_id), kept_locked_trips=kept)
    return Erased(
        cars=cars_deleted,
        cars_handed_over=handed_over,
        trips=int(trips.rowcount or 0),  # type: ignore[attr-defined]
        events=int(events.rowcount or 0),  # type: ignore[attr-defined]
        places=int(place_rows.rowcount or 0),  # type: ignore[attr-defined]
        webhook_tokens=int(token_rows.rowcount or 0),  # type: ignore[attr-defined]
        kept_locked_trips=kept,
        kept_note=LOCKED_NOTE if kept else "Nothing was kept.",
    )
