"""A trip's figures from its events: ends, time zones, distance (odometer, else GPS, else routed), addresses, places."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.geo.address import Address, Geocoder
from carpulse.geo.route import Router, bridge_gaps
from carpulse.geo.track import Fix, measure
from carpulse.geo.zone import zone_at
from carpulse.kit.logs import get_logger
from carpulse.models import DistanceSource, Trip, TripEvent, TripState
from carpulse.place.service import KnownPlace, places, snap

if TYPE_CHECKING:
    from carpulse.config import Settings

log = get_logger("carpulse.trip")

_COLUMNS = (
    TripEvent.at,
    TripEvent.lat,
    TripEvent.lon,
    TripEvent.accuracy_m,
    TripEvent.altitude_m,
    TripEvent.speed_mps,
    TripEvent.heading_deg,
    TripEvent.odometer_km,
    TripEvent.battery_pct,
)


def _address(address: Address | None) -> dict[str, Any] | None:
    return dataclasses.asdict(address) if address is not None else None


async def _reverse(geocoder: Geocoder, lat: float | None, lon: float | None) -> dict[str, Any] | None:
    if lat is None or lon is None:
        return None
    try:
        return _address(await geocoder.reverse(lat, lon))
    except Exception:
        log.warning("trip.geocode_failed")
        return None


async def refresh(
    db: AsyncSession,
    settings: Settings,
    geocoder: Geocoder,
    router: Router,
    trip: Trip,
    *,
    known: list[KnownPlace] | None = None,
) -> bool:
    """Recompute the trip from its events; False when it has none left (the caller removes it)."""
    rows = (await db.execute(select(*_COLUMNS).where(TripEvent.trip_id == trip.id).order_by(TripEvent.at))).all()
    if not rows:
        return False
    fixes = [
        Fix(
            lat=r.lat,
            lon=r.lon,
            at=r.at,
            accuracy_m=r.accuracy_m,
            altitude_m=r.altitude_m,
            speed_mps=r.speed_mps,
            heading_deg=r.heading_deg,
        )
        for r in rows
        if r.lat is not None and r.lon is not None
    ]
    measured = measure(
        fixes, max_accuracy_m=settings.geo.max_accuracy_m, simplify_tolerance_m=settings.geo.simplify_tolerance_m
    )
    closed = trip.state is not TripState.open
    trip.started_at, trip.last_fix_at = rows[0].at, rows[-1].at
    if closed:
        trip.ended_at = rows[-1].at
    # The ends are where the phone said the drive began and ended, cleaned of outliers where we can.
    first = measured.kept[0] if measured.kept else (fixes[0] if fixes else None)
    last = measured.kept[-1] if measured.kept else (fixes[-1] if fixes else None)
    trip.start_lat, trip.start_lon = (first.lat, first.lon) if first else (None, None)
    trip.end_lat, trip.end_lon = (last.lat, last.lon) if last else (None, None)
    odometers = [r.odometer_km for r in rows if r.odometer_km is not None]
    trip.odometer_start_km = odometers[0] if odometers else None
    trip.odometer_end_km = odometers[-1] if len(odometers) > 1 else None
    batteries = [r.battery_pct for r in rows if r.battery_pct is not None]
    trip.battery_start_pct = batteries[0] if batteries else None
    trip.battery_end_pct = batteries[-1] if len(batteries) > 1 else None
    trip.fix_count, trip.dropped_fixes = len(rows), measured.dropped
    if len(odometers) > 1 and odometers[-1] >= odometers[0]:
        # The car's own odometer is what tax offices ask for.
        trip.distance_m, trip.distance_source, trip.distance_estimated = (
            (odometers[-1] - odometers[0]) * 1000,
            DistanceSource.odometer,
            False,
        )
    elif measured.sparse and closed and first is not None and last is not None:
        try:
            # Only the legs the phone did not see are routed; a start and an end alone are routed whole.
            if measured.gaps:
                road = await bridge_gaps(measured, router)
            else:
                road = await router.road_distance([(fix.lat, fix.lon) for fix in (measured.kept or [first, last])])
            source = DistanceSource.gps if road.source == "gps" else DistanceSource.route
            trip.distance_m, trip.distance_source, trip.distance_estimated = road.distance_m, source, road.estimated
        except Exception:
            log.warning("trip.route_failed", trip_id=str(trip.id))
            trip.distance_m, trip.distance_source, trip.distance_estimated = (
                measured.distance_m,
                DistanceSource.gps,
                False,
            )
    else:
        trip.distance_m, trip.distance_source, trip.distance_estimated = measured.distance_m, DistanceSource.gps, False
    trip.track = [[round(fix.lon, 6), round(fix.lat, 6)] for fix in measured.simplified]
    trip.start_zone = zone_at(first.lat, first.lon) if first else None
    trip.end_zone = zone_at(last.lat, last.lon) if last and closed else None
    if trip.start_address is None or closed:
        trip.start_address = await _reverse(geocoder, trip.start_lat, trip.start_lon)
    trip.end_address = await _reverse(geocoder, trip.end_lat, trip.end_lon) if closed else None
    await label(db, settings, trip, known)
    return True


async def label(db: AsyncSession, settings: Settings, trip: Trip, known: list[KnownPlace] | None = None) -> bool:
    """Snap the trip's ends to its driver's places; whether a label changed."""
    if known is None:
        known = await places.known(db, settings, trip.driver_id)
    start = snap(known, trip.start_lat, trip.start_lon)
    end = snap(known, trip.end_lat, trip.end_lon) if trip.state is not TripState.open else None
    labels = (start.label() if start else None, end.label() if end else None)
    changed = labels != (trip.start_place, trip.end_place)
    trip.start_place, trip.end_place = labels
    return changed
