"""Catalogue use cases: listing and search, warranty, and a VIN's static data."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.vehicle_model.catalogue import entries
from carpulse.vehicle_model.errors import ModelNotFound
from carpulse.vehicle_model.service import vehicle_models
from carpulse.vin.errors import InvalidVin, VinUnknown


class TestListModels:
    async def test_search_by_make_and_text_with_paging(self, db: AsyncSession) -> None:
        page = await vehicle_models.list_models(db, query="id.3", make="volkswagen", limit=2, offset=0)
        assert page.total == 3
        assert [item.model for item in page.items] == ["ID.3", "ID.3"]
        rest = await vehicle_models.list_models(db, query="id.3", make="volkswagen", limit=2, offset=2)
        assert len(rest.items) == 1
        assert {item.model_id for item in page.items + rest.items} == {
            entry.model_id for entry in entries() if entry.model == "ID.3"
        }

    async def test_wildcards_in_the_query_are_literal(self, db: AsyncSession) -> None:
        assert (await vehicle_models.list_models(db, query="%")).total == 0
        assert (await vehicle_models.list_models(db, query="_")).total == 0


class TestWarranty:
    async def test_terms_with_their_source(self, db: AsyncSession) -> None:
        terms = await vehicle_models.warranty(db, "tesla-model-3-long-range-awd-2022")
        assert (terms.warranty.years.value, terms.warranty.km.value) == (8, 192000)
        assert terms.warranty.retained_capacity_percent.value == 70
        assert terms.warranty.km.source
        assert terms.warranty.km.confirmed

    async def test_unknown_model(self, db: AsyncSession) -> None:
        with pytest.raises(ModelNotFound):
            await vehicle_models.warranty(db, "no-such-model")


class TestStaticForVin:
    async def test_a_tesla_vin_matches_one_version(self, db: AsyncSession) -> None:
        static = await vehicle_models.static_for_vin(db, "5YJ3E7EB1KF123456")
        assert (static.match, static.model_id) == ("exact", "tesla-model-3-long-range-awd-2018")
        assert (static.make, static.model, static.model_year, static.plant) == (
            "Tesla",
            "Model 3",
            2019,
            "Fremont, California",
        )
        assert static.usable_capacity.value == 75.0
        assert static.usable_capacity.source
        assert static.rated_range.unit == "km"

    async def test_a_vin_of_several_versions_gives_what_they_share(self, db: AsyncSession) -> None:
        static = await vehicle_models.static_for_vin(db, "WVWZZZE1ZMP012345")
        assert static.match == "ambiguous"
        assert len(static.candidates) == 3
        assert static.usable_capacity.value is None  # 45, 58 or 77 kWh: the VIN does not say
        assert (static.warranty.years.value, static.warranty.km.value) == (8, 160000)
        assert static.chemistry.value == "NCM"

    async def test_a_maker_we_do_not_carry_is_unknown(self, db: AsyncSession) -> None:
        with pytest.raises(VinUnknown):
            await vehicle_models.static_for_vin(db, "JTDKW3D35M1000001")

    async def test_an_invalid_vin_is_refused_before_any_query(self, db: AsyncSession) -> None:
        with pytest.raises(InvalidVin):
            await vehicle_models.static_for_vin(db, "5YJ3E7EB2KF123456")
