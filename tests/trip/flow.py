"""Drives as a phone reports them: a route sampled every few seconds, sent as webhook events."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from geographiclib.geodesic import Geodesic

from tests.car.flow import add_car, driver, webhook_token

# Kamppi → Töölö → Pasila, Helsinki: a real street line, about 3.9 km.
HELSINKI_ROUTE = [
    (60.16920, 24.93130),
    (60.17330, 24.93070),
    (60.17800, 24.92910),
    (60.18340, 24.92530),
    (60.18880, 24.92390),
    (60.19390, 24.92730),
    (60.19870, 24.93330),
]
# Tornio (Finland) to Haparanda (Sweden) across the border river: another country and time zone 5 km away.
BORDER_ROUTE = [(65.84810, 24.14660), (65.84400, 24.13100), (65.83900, 24.11500), (65.83560, 24.10450)]


def length_m(points: Sequence[tuple[float, float]]) -> float:
    return sum(Geodesic.WGS84.Inverse(a[0], a[1], b[0], b[1])["s12"] for a, b in itertools.pairwise(points))


def sample(points: Sequence[tuple[float, float]], *, every_m: float = 100.0) -> list[tuple[float, float]]:
    """Points along the polyline every `every_m` metres (its corners kept)."""
    out = [points[0]]
    for a, b in itertools.pairwise(points):
        line = Geodesic.WGS84.InverseLine(a[0], a[1], b[0], b[1])
        steps = max(1, int(line.s13 // every_m))
        for i in range(1, steps + 1):
            position = line.Position(line.s13 * i / steps)
            out.append((position["lat2"], position["lon2"]))
    return out


def drive(
    start: datetime, points: Sequence[tuple[float, float]], *, every_s: float = 10.0, **extra: Any
) -> list[dict[str, Any]]:
    """One event payload per point, `every_s` apart (the phone's timestamps)."""
    return [
        {
            "lat": lat,
            "lon": lon,
            "timestamp": (start + timedelta(seconds=i * every_s)).isoformat(),
            "accuracy": 8,
            **extra,
        }
        for i, (lat, lon) in enumerate(points)
    ]


class Phone:
    """A driver's phone, with the car's webhook token."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token

    async def send(
        self, kind: str, body: dict[str, Any] | list[dict[str, Any]], *, in_path: bool = False
    ) -> httpx.Response:
        if in_path:
            return await self.client.post(f"/webhook/{kind}/{self.token}", json=body)
        return await self.client.post(f"/webhook/{kind}", json=body, headers={"Authorization": f"Bearer {self.token}"})

    async def trip(self, events: list[dict[str, Any]]) -> None:
        """A whole drive: its first event as `start`, the middle as pings, the last as `end`."""
        for kind, body in [("start", events[0]), *(("ping", e) for e in events[1:-1]), ("end", events[-1])]:
            response = await self.send(kind, body)
            assert response.status_code == 202, response.text


async def driver_with_car(
    app: FastAPI, client: httpx.AsyncClient, email: str = "alice@example.com"
) -> tuple[dict[str, str], str, Phone]:
    headers = await driver(app, email)
    car = await add_car(client, headers)
    return headers, car["id"], Phone(client, await webhook_token(client, headers, car["id"]))


async def trips_of(client: httpx.AsyncClient, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/logbook/trips", params=query, headers=headers)
    assert response.status_code == 200, response.text
    trips: list[dict[str, Any]] = response.json()["trips"]
    return trips
