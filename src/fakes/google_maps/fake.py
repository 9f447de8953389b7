"""`GoogleMapsFake`: Google's Geocoding and Directions web services over the gazetteer, as an ASGI app.

Answers have the shape of developers.google.com/maps/documentation/{geocoding,directions}: a `status`
(OK, ZERO_RESULTS, NOT_FOUND, REQUEST_DENIED, OVER_QUERY_LIMIT, INVALID_REQUEST, MAX_WAYPOINTS_EXCEEDED) in an
HTTP 200 body. Road distances are deterministic: the great-circle legs times `road_factor`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from fakes.google_maps.gazetteer import Found, distance_m, find

__all__ = ["DEFAULT_KEY", "MAX_WAYPOINTS", "GoogleMapsFake"]

DEFAULT_KEY = "sandbox-maps-key"
MAX_WAYPOINTS = 25
_POINT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass
class Faults:
    down: bool = False  # every call answers HTTP 503
    throttle: int = 0  # the next this many calls answer OVER_QUERY_LIMIT
    latency_seconds: float = 0.0


class FaultChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    down: bool | None = None
    throttle: int | None = Field(default=None, ge=0, le=1_000_000)
    latency_seconds: float | None = Field(default=None, ge=0, le=60)


def _point(text: str | None) -> tuple[float, float] | None:
    match = _POINT.match(text or "")
    if match is None:
        return None
    lat, lon = float(match[1]), float(match[2])
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def _place_id(*parts: object) -> str:
    return "ChIJfake" + hashlib.sha256(repr(parts).encode()).hexdigest()[:19]


def _component(long_name: str, short_name: str, *types: str) -> dict[str, Any]:
    return {"long_name": long_name, "short_name": short_name, "types": list(types)}


def _geocode_results(found: Found, lat: float, lon: float) -> list[dict[str, Any]]:
    city = found.city
    town = [
        _component(city.name, city.name, "locality", "political"),
        _component(city.state, city.state, "administrative_area_level_1", "political"),
        _component(city.country, city.country_code, "country", "political"),
    ]
    results: list[dict[str, Any]] = []
    if found.street is not None and found.at is not None:
        street = found.street
        number = str(found.house_number)
        components = [
            _component(number, number, "street_number"),
            _component(street.name, street.name, "route"),
            *town,
            _component(street.postcode, street.postcode, "postal_code"),
        ]
        results.append(
            {
                "address_components": components,
                "formatted_address": f"{street.name} {number}, {street.postcode} {city.name}, {city.country}",
                "geometry": {
                    "location": {"lat": round(found.at[0], 7), "lng": round(found.at[1], 7)},
                    "location_type": "ROOFTOP",
                },
                "place_id": _place_id(street.name, number),
                "types": ["street_address"],
            }
        )
        results.append(
            {
                "address_components": [components[1], *town, components[-1]],
                "formatted_address": f"{street.name}, {street.postcode} {city.name}, {city.country}",
                "geometry": {"location": {"lat": lat, "lng": lon}, "location_type": "GEOMETRIC_CENTER"},
                "place_id": _place_id(street.name),
                "types": ["route"],
            }
        )
    results.append(
        {
            "address_components": town,
            "formatted_address": f"{city.name}, {city.country}",
            "geometry": {
                "location": {"lat": city.centre[0], "lng": city.centre[1]},
                "location_type": "APPROXIMATE",
            },
            "place_id": _place_id(city.name),
            "types": ["locality", "political"],
        }
    )
    return results


def encode_polyline(points: list[tuple[float, float]]) -> str:
    """Google's encoded polyline format (5 decimals, zig-zag deltas in 5-bit chunks)."""
    out: list[str] = []
    previous = (0, 0)
    for lat, lon in points:
        current = (round(lat * 1e5), round(lon * 1e5))
        for delta in (current[0] - previous[0], current[1] - previous[1]):
            value = ~(delta << 1) if delta < 0 else delta << 1
            while value >= 0x20:
                out.append(chr((0x20 | (value & 0x1F)) + 63))
                value >>= 5
            out.append(chr(value + 63))
        previous = current
    return "".join(out)


def _text_km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{round(metres)} m"


class GoogleMapsFake:
    """Geocoding at `/maps/api/geocode/json`, Directions at `/maps/api/directions/json`, controls at `/_control`."""

    def __init__(self, api_key: str = DEFAULT_KEY, *, road_factor: float = 1.25, speed_mps: float = 13.9) -> None:
        self.api_key = api_key
        self.road_factor = road_factor
        self.speed_mps = speed_mps
        self.calls: Counter[str] = Counter()
        self.faults = Faults()
        self.app = self._create_app()

    # --- what tests switch and read ----------------------------------------------------------------

    def set_fault(
        self, *, down: bool | None = None, throttle: int | None = None, latency_seconds: float | None = None
    ) -> None:
        if down is not None:
            self.faults.down = down
        if throttle is not None:
            self.faults.throttle = throttle
        if latency_seconds is not None:
            self.faults.latency_seconds = latency_seconds

    def reset(self) -> None:
        self.calls.clear()
        self.faults = Faults()

    # --- the services --------------------------------------------------------------------------------

    async def _gate(self, api: str, request: Request) -> Response | None:
        """The answer every call gets before its own: an outage, a missing or wrong key, a throttle."""
        self.calls[api] += 1
        if self.faults.latency_seconds:
            await asyncio.sleep(self.faults.latency_seconds)
        if self.faults.down:
            return PlainTextResponse("Service Unavailable", status_code=503)
        key = request.query_params.get("key")
        if not key:
            return self._denied("You must use an API key to authenticate each request to Google Maps Platform APIs.")
        if key != self.api_key:
            return self._denied("The provided API key is invalid.")
        if self.faults.throttle > 0:
            self.faults.throttle -= 1
            return JSONResponse(
                {
                    "results": [],
                    "routes": [],
                    "status": "OVER_QUERY_LIMIT",
                    "error_message": "You have exceeded your rate-limit for this API.",
                }
            )
        return None

    @staticmethod
    def _denied(message: str) -> JSONResponse:
        return JSONResponse({"results": [], "routes": [], "status": "REQUEST_DENIED", "error_message": message})

    async def geocode(self, request: Request) -> Response:
        if (refusal := await self._gate("geocode", request)) is not None:
            return refusal
        point = _point(request.query_params.get("latlng"))
        if point is None:
            return JSONResponse(
                {
                    "results": [],
                    "status": "INVALID_REQUEST",
                    "error_message": "Invalid request. Invalid 'latlng' parameter.",
                },
                status_code=400,
            )
        found = find(*point)
        if found is None:
            return JSONResponse({"plus_code": {}, "results": [], "status": "ZERO_RESULTS"})
        return JSONResponse({"plus_code": {}, "results": _geocode_results(found, *point), "status": "OK"})

    async def directions(self, request: Request) -> Response:
        if (refusal := await self._gate("directions", request)) is not None:
            return refusal
        query = request.query_params
        if query.get("mode", "driving") != "driving":
            return JSONResponse({"routes": [], "status": "ZERO_RESULTS", "geocoded_waypoints": []})
        if "origin" not in query or "destination" not in query:
            return JSONResponse(
                {
                    "routes": [],
                    "status": "INVALID_REQUEST",
                    "error_message": "Invalid request. Missing the 'origin' parameter.",
                }
            )
        stops: list[tuple[tuple[float, float] | None, bool]] = [(_point(query["origin"]), True)]
        raw = [part for part in (query.get("waypoints") or "").split("|") if part and part != "optimize:true"]
        if len(raw) > MAX_WAYPOINTS:
            return JSONResponse({"routes": [], "status": "MAX_WAYPOINTS_EXCEEDED", "geocoded_waypoints": []})
        for part in raw:
            via = part.startswith("via:")
            stops.append((_point(part.removeprefix("via:")), not via))
        stops.append((_point(query["destination"]), True))
        if any(point is None for point, _ in stops):
            waypoints = [{"geocoder_status": "OK" if point else "ZERO_RESULTS"} for point, _ in stops]
            return JSONResponse({"routes": [], "status": "NOT_FOUND", "geocoded_waypoints": waypoints})
        points = [point for point, _ in stops if point is not None]
        legs: list[dict[str, Any]] = []
        leg_start, leg_metres, vias = points[0], 0.0, []
        for index in range(1, len(points)):
            leg_metres += distance_m(points[index - 1], points[index]) * self.road_factor
            if not stops[index][1]:
                vias.append({"location": {"lat": points[index][0], "lng": points[index][1]}, "step_index": 0})
                continue
            metres = round(leg_metres)
            seconds = round(metres / self.speed_mps)
            legs.append(
                {
                    "distance": {"text": _text_km(metres), "value": metres},
                    "duration": {"text": f"{max(1, round(seconds / 60))} mins", "value": seconds},
                    "start_location": {"lat": leg_start[0], "lng": leg_start[1]},
                    "end_location": {"lat": points[index][0], "lng": points[index][1]},
                    "steps": [],
                    "via_waypoint": vias,
                }
            )
            leg_start, leg_metres, vias = points[index], 0.0, []
        route = {
            "summary": "Fake road",
            "legs": legs,
            "overview_polyline": {"points": encode_polyline(points)},
            "copyrights": "Map data ©2026 Sandbox",
            "warnings": [],
            "waypoint_order": [],
        }
        geocoded: list[dict[str, Any]] = [
            {"geocoder_status": "OK", "place_id": _place_id(point), "types": ["street_address"]} for point in points
        ]
        return JSONResponse({"geocoded_waypoints": geocoded, "routes": [route], "status": "OK"})

    # --- the app -------------------------------------------------------------------------------------

    async def _calls(self, request: Request) -> Response:
        return JSONResponse({"geocode": self.calls["geocode"], "directions": self.calls["directions"]})

    async def _faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                change = FaultChange.model_validate_json(await request.body())
            except ValidationError as exc:
                return JSONResponse({"detail": exc.errors(include_url=False)}, status_code=422)
            self.set_fault(**change.model_dump())
        return JSONResponse(vars(self.faults))

    async def _reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"status": "reset"})

    def _create_app(self) -> Starlette:
        # Plain Starlette routes: every app the test suite builds mounts a fresh fake, and these cost nothing to set up.
        return Starlette(
            routes=[
                Route("/maps/api/geocode/json", self.geocode, methods=["GET"]),
                Route("/maps/api/directions/json", self.directions, methods=["GET"]),
                Route("/_control/calls", self._calls, methods=["GET"]),
                Route("/_control/faults", self._faults, methods=["GET", "POST"]),
                Route("/_control/reset", self._reset, methods=["POST"]),
            ]
        )
