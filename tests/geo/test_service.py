"""What the lifespan builds from settings: `state.geocoder` and `state.router`, on the sandbox's fakes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.config import DEVELOPMENT_MAPS_API_KEY, Settings, UnsafeProductionSettings
from carpulse.geo.cache import CachedGeocoder, cache_key
from carpulse.geo.offline import OfflineGeocoder
from carpulse.geo.route import OfflineRouter
from carpulse.state import State
from tests.conftest import production_overrides

MANNERHEIMINTIE = (60.1700, 24.9400)
OTAKAARI = (60.1870, 24.8300)


def state_of(app: FastAPI) -> State:
    state: State = app.state.carpulse
    return state


class TestDefault:
    async def test_offline_without_a_network(self, app: FastAPI) -> None:
        state = state_of(app)
        assert isinstance(state.geocoder, OfflineGeocoder)
        assert isinstance(state.router, OfflineRouter)
        address = await state.geocoder.reverse(*MANNERHEIMINTIE)
        assert address is not None
        assert (address.city, address.precision, address.source) == ("Helsinki", "city", "offline")
        route = await state.router.road_distance([MANNERHEIMINTIE, OTAKAARI])
        assert route.estimated
        assert route.source == "offline"


class TestGoogle:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"geo": {"geocoder": "google", "router": "google"}}

    async def test_addresses_come_from_the_sandbox_fake_and_are_cached_in_the_store(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        state = state_of(app)
        assert isinstance(state.geocoder, CachedGeocoder)
        first = await state.geocoder.reverse(*MANNERHEIMINTIE)
        again = await state.geocoder.reverse(*MANNERHEIMINTIE)
        assert first is not None
        assert first == again
        assert first.label == "Mannerheimintie 8, 00100 Helsinki"
        assert (await client.get("/_sandbox/google_maps/_control/calls")).json()["geocode"] == 1
        assert await state.ephemeral.get(cache_key("google", *MANNERHEIMINTIE)) is not None

    async def test_a_google_outage_costs_the_address_not_the_caller(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await client.post("/_sandbox/google_maps/_control/faults", json={"down": True})
        assert await state_of(app).geocoder.reverse(*OTAKAARI) is None
        route = await state_of(app).router.road_distance([MANNERHEIMINTIE, OTAKAARI])
        assert (route.source, route.estimated) == ("offline", True)

    async def test_road_distance_from_the_sandbox_directions(self, app: FastAPI) -> None:
        route = await state_of(app).router.road_distance([MANNERHEIMINTIE, OTAKAARI])
        assert (route.source, route.estimated) == ("google", False)
        assert 7_000 < route.distance_m < 9_000


class TestNominatim:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"geo": {"geocoder": "nominatim"}}

    async def test_addresses_come_from_the_sandbox_fake(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        address = await state_of(app).geocoder.reverse(*OTAKAARI)
        assert address is not None
        assert (address.street, address.city, address.source) == ("Otakaari", "Espoo", "nominatim")
        assert (await client.get("/_sandbox/nominatim/_control/calls")).json() == {"calls": 1, "too_fast": 0}


class TestSettings:
    def test_production_refuses_google_with_the_sandbox_key(self) -> None:
        values = production_overrides() | {"geo": {"geocoder": "google"}}
        with pytest.raises(ValueError, match="CARPULSE_GEO__GOOGLE_API_KEY") as raised:
            Settings(_env_file=None, **values)  # type: ignore[call-arg]
        assert isinstance(raised.value.errors()[0]["ctx"]["error"], UnsafeProductionSettings)  # type: ignore[attr-defined]

    def test_production_offline_needs_no_google_key(self) -> None:
        settings = Settings(_env_file=None, **production_overrides())  # type: ignore[call-arg]
        assert settings.geo.google_api_key.get_secret_value() == DEVELOPMENT_MAPS_API_KEY

    def test_the_seed_name_maps_api_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MAPS_API_KEY", "AIza-seed-key")
        assert Settings(_env_file=None).geo.google_api_key.get_secret_value() == "AIza-seed-key"  # type: ignore[call-arg]

    def test_nominatim_is_never_asked_more_than_once_a_second(self) -> None:
        with pytest.raises(ValueError, match="nominatim_min_interval_seconds"):
            Settings(_env_file=None, geo={"nominatim_min_interval_seconds": 0.2})  # type: ignore[call-arg, arg-type]
