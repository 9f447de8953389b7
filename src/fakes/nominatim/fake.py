"""`NominatimFake`: Nominatim's `/reverse` (format=jsonv2) over the Google fake's gazetteer, as an ASGI app.

It enforces what the usage policy asks of a client and counts what it got wrong: requests without an
identifying User-Agent are refused (403, as the public instance blocks library defaults), and requests closer
than `min_interval_seconds` to the one before are counted in `too_fast`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from fakes.google_maps.gazetteer import find

__all__ = ["LICENCE", "NominatimFake"]

LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"
_LIBRARY_AGENTS = ("python-httpx", "python-requests", "python-urllib", "aiohttp", "curl")


def _osm_id(*parts: object) -> int:
    return int(hashlib.sha256(repr(parts).encode()).hexdigest()[:10], 16)


class NominatimFake:
    def __init__(self, *, min_interval_seconds: float = 1.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.min_interval = min_interval_seconds
        self.monotonic = monotonic
        self.calls = 0
        self.too_fast = 0
        self.down = False
        self.agents: list[str] = []
        self._last: float | None = None
        self.app = self._create_app()

    def reset(self) -> None:
        self.calls = self.too_fast = 0
        self.down = False
        self.agents.clear()
        self._last = None

    async def reverse(self, request: Request) -> Response:
        self.calls += 1
        now = self.monotonic()
        if self._last is not None and now - self._last < self.min_interval:
            self.too_fast += 1
        self._last = now
        agent = request.headers.get("user-agent", "")
        self.agents.append(agent)
        if self.down:
            return PlainTextResponse("Service Unavailable", status_code=503)
        if not agent or agent.lower().startswith(_LIBRARY_AGENTS):
            return PlainTextResponse("Access blocked: identify your application (usage policy).", status_code=403)
        query = request.query_params
        if query.get("format") != "jsonv2":
            return PlainTextResponse("this fake answers format=jsonv2 only", status_code=400)
        try:
            lat, lon = float(query["lat"]), float(query["lon"])
        except (KeyError, ValueError):
            return JSONResponse(
                {"error": {"code": 400, "message": "Parameter 'lat' must be a number."}}, status_code=400
            )
        found = find(lat, lon)
        if found is None:
            return JSONResponse({"error": "Unable to geocode"})
        city = found.city
        address: dict[str, Any] = {}
        if found.street is not None:
            address["house_number"] = str(found.house_number)
            address["road"] = found.street.name
        address.update({"city": city.name, "state": city.state})
        if found.street is not None:
            address["postcode"] = found.street.postcode
        address.update({"country": city.local_country, "country_code": city.country_code.lower()})
        at = found.at or city.centre
        names = [
            address[key] for key in ("house_number", "road", "city", "state", "postcode", "country") if key in address
        ]
        return JSONResponse(
            {
                "place_id": _osm_id("place", *names),
                "licence": LICENCE,
                "osm_type": "way",
                "osm_id": _osm_id(*names),
                "lat": f"{at[0]:.7f}",
                "lon": f"{at[1]:.7f}",
                "category": "building" if found.street else "boundary",
                "type": "yes" if found.street else "administrative",
                "place_rank": 30 if found.street else 16,
                "addresstype": "building" if found.street else "city",
                "name": "" if found.street else city.name,
                "display_name": ", ".join(names),
                "address": address,
            }
        )

    async def _calls(self, request: Request) -> Response:
        return JSONResponse({"calls": self.calls, "too_fast": self.too_fast})

    async def _faults(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"detail": 'a JSON object like {"down": true}'}, status_code=422)
        self.down = bool(body.get("down")) if isinstance(body, dict) else self.down
        return JSONResponse({"down": self.down})

    async def _reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"status": "reset"})

    def _create_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/reverse", self.reverse, methods=["GET"]),
                Route("/_control/calls", self._calls, methods=["GET"]),
                Route("/_control/faults", self._faults, methods=["POST"]),
                Route("/_control/reset", self._reset, methods=["POST"]),
            ]
        )
