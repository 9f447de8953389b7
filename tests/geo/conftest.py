"""Vendor fakes behind httpx's ASGI transport, our log lines in a buffer."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from carpulse.kit.logs import configure_logging
from fakes.google_maps import GoogleMapsFake
from fakes.nominatim import NominatimFake


@pytest.fixture
def maps() -> GoogleMapsFake:
    return GoogleMapsFake(api_key="test-maps-key")


@pytest.fixture
async def maps_http(maps: GoogleMapsFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=maps.app), base_url="http://maps.fake") as http:
        yield http


@pytest.fixture
def nominatim() -> NominatimFake:
    return NominatimFake()


@pytest.fixture
async def nominatim_http(nominatim: NominatimFake) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=nominatim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nominatim.fake") as http:
        yield http


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    previous, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = previous
        root.setLevel(level)


def parse(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def no_sleep(_: float) -> None:
    return None
