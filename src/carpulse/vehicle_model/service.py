"""The model catalogue: kept in line with the shipped file at start, listed, searched and matched to VINs."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.kit.logs import get_logger
from carpulse.models import VehicleModel
from carpulse.observation.repository import ObservationRepository
from carpulse.vehicle_model import _dynamic, _trendline
from carpulse.vehicle_model.catalogue import entries, matches
from carpulse.vehicle_model.errors import ModelNotFound
from carpulse.vehicle_model.repository import VehicleModelRepository
from carpulse.vehicle_model.schemas import (
    Candidate,
    DynamicVehicle,
    Figure,
    ModelPage,
    ModelTrendline,
    ModelWarranty,
    StaticVehicle,
    VehicleModelOut,
    WarrantyTerms,
)
from carpulse.vin.decoder import decode
from carpulse.vin.errors import VinUnknown

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.vehicle_model")


class VehicleModelService:
    async def seed(self, state: State) -> None:
        """At start: the table holds the shipped catalogue (replicas starting together both succeed)."""
        async with state.sessionmaker() as session:
            changed = await self.sync_catalogue(session)
            await session.commit()
        if changed:
            log.info("vehicle_model.catalogue_synced", changed=changed)

    async def sync_catalogue(self, db: AsyncSession) -> int:
        """Insert or update every entry that differs from its row; returns how many did. Flushes, never commits.
        Rows no longer shipped stay (an older replica may still serve them during a rollout)."""
        repository = VehicleModelRepository(db)
        existing = {row.model_id: row for row in await repository.all()}
        changed = 0
        # One order for every replica, so that concurrent upserts lock rows in the same sequence.
        for entry in sorted(entries(), key=lambda entry: entry.model_id):
            values = entry.row()
            row = existing.get(entry.model_id)
            if row is not None and all(getattr(row, name) == value for name, value in values.items()):
                continue
            await repository.upsert(values)
            changed += 1
        if changed:
            db.expire_all()
        return changed

    async def list_models(
        self, db: AsyncSession, query: str | None = None, make: str | None = None, limit: int = 50, offset: int = 0
    ) -> ModelPage:
        """A page of the catalogue, searched by id, make, model or version."""
        limit, offset = max(1, min(limit, 200)), max(0, offset)
        rows, total = await VehicleModelRepository(db).search(query=query, make=make, limit=limit, offset=offset)
        return ModelPage(items=[_model(row) for row in rows], total=total, limit=limit, offset=offset)

    async def warranty(self, db: AsyncSession, model_id: str) -> ModelWarranty:
        row = await self.get(db, model_id)
        return ModelWarranty(
            model_id=row.model_id, make=row.make, model=row.model, version=row.version, warranty=_warranty([row])
        )

    async def get(self, db: AsyncSession, model_id: str) -> VehicleModel:
        row = await VehicleModelRepository(db).get(model_id)
        if row is None:
            raise ModelNotFound(f"no model {model_id!r} in the catalogue")
        return row

    async def candidates(self, db: AsyncSession, vin: str) -> list[VehicleModel]:
        """The catalogue versions a (valid) VIN may be."""
        decoded = decode(vin)
        models = (decoded.model,) if decoded.model is not None else decoded.model_candidates
        if decoded.make is None or not models:
            return []
        rows = await VehicleModelRepository(db).of_models(decoded.make, models)
        return [row for row in rows if matches(decoded, row)]

    async def static_for_vin(self, db: AsyncSession, vin: str) -> StaticVehicle:
        """Decoding plus the catalogue: `InvalidVin` for what is no VIN, `VinUnknown` for a make we do not carry."""
        decoded = decode(vin)
        if decoded.make is None:
            raise VinUnknown(f"we do not know the maker of VINs starting {decoded.wmi}", wmi=decoded.wmi)
        rows = await self.candidates(db, vin)
        exact = rows[0] if len(rows) == 1 else None
        return StaticVehicle(
            vin=decoded.vin,
            make=decoded.make,
            manufacturer=decoded.manufacturer,
            country=decoded.country,
            model=decoded.model or _shared(rows, "model"),
            model_year=decoded.model_year,
            plant=decoded.plant,
            plant_code=decoded.plant_code,
            body=_shared(rows, "body"),
            drive=decoded.drive or _shared(rows, "drive"),
            match="exact" if exact else "ambiguous" if rows else "none",
            model_id=exact.model_id if exact else None,
            version=exact.version if exact else None,
            candidates=[Candidate(model_id=row.model_id, version=row.version) for row in rows],
            chemistry=_figure(rows, "chemistry"),
            nominal_capacity=_figure(rows, "nominal_kwh", "kWh"),
            usable_capacity=_figure(rows, "usable_kwh", "kWh"),
            rated_range=_figure(rows, "rated_range_km", "km"),
            warranty=_warranty(rows),
            decoded=decoded,
        )

    async def dynamic_for_vin(
        self,
        db: AsyncSession,
        vin: str,
        *,
        synthetic: bool,
        now: datetime | None = None,
        memo: MutableMapping[tuple[str, bool], tuple[object, DynamicVehicle]] | None = None,
    ) -> DynamicVehicle:
        """Battery health, odometer and latest readings of a (checked) VIN, from readings sold per VIN only and of
        the given origin (simulated or real); `NoData` when there are none.

        With `memo` (a replica's short-lived cache), an answer is reused while the VIN's shared readings are the
        same ones: one aggregate tells, so a new reading or a consent given or withdrawn is seen at once."""
        fingerprint: object = None
        if memo is not None:
            fingerprint = await ObservationRepository(db).shared_fingerprint(
                vin, sharing=_dynamic.SOLD_PER_VIN, synthetic=synthetic
            )
            kept = memo.get((vin, synthetic))
            if kept is not None and kept[0] == fingerprint:
                return kept[1]
        rows = await self.candidates(db, vin)
        answer = await _dynamic.dynamic_for_vin(db, vin, rows, synthetic=synthetic, now=now or datetime.now(UTC))
        if memo is not None:
            memo[(vin, synthetic)] = (fingerprint, answer)
        return answer

    async def trendline(
        self, db: AsyncSession, model_id: str, *, synthetic: bool, min_cohort: int, now: datetime | None = None
    ) -> ModelTrendline:
        """The model's state-of-health percentiles by 20,000 km and by year of age, one estimate per vehicle and
        bin, bins of fewer than `min_cohort` vehicles withheld; `ModelNotFound` for an unknown id."""
        if min_cohort < 1:
            raise ValueError("min_cohort is at least 1")
        row = await self.get(db, model_id)
        return await _trendline.trendline(db, row, synthetic=synthetic, min_cohort=min_cohort, now=now)


def _shared(rows: list[VehicleModel], name: str) -> str | None:
    values = {getattr(row, name) for row in rows}
    value = values.pop() if len(values) == 1 else None
    return value if isinstance(value, str) else None


def _figure(rows: list[VehicleModel], name: str, unit: str | None = None) -> Figure:
    """The figure every row agrees on, with their sources; no value when they differ or none states it."""
    values = {getattr(row, name) for row in rows}
    if len(values) != 1 or None in values:
        return Figure(value=None, unit=unit)
    value = values.pop()
    cited = [row.sources.get(name) or {} for row in rows]
    sources = list(dict.fromkeys(str(item["source"]) for item in cited if item.get("source")))
    shown = float(value) if not isinstance(value, str | int) else value
    return Figure(
        value=shown,
        unit=unit,
        source="; ".join(sources) or None,
        confirmed=bool(cited) and all(bool(item.get("confirmed")) for item in cited),
    )


def _warranty(rows: list[VehicleModel]) -> WarrantyTerms:
    unlimited = {row.warranty_unlimited_km for row in rows}
    return WarrantyTerms(
        years=_figure(rows, "warranty_years", "years"),
        km=_figure(rows, "warranty_km", "km"),
        unlimited_km=unlimited == {True},
        retained_capacity_percent=_figure(rows, "warranty_retained_percent", "%"),
    )


def _model(row: VehicleModel) -> VehicleModelOut:
    return VehicleModelOut(
        model_id=row.model_id,
        make=row.make,
        model=row.model,
        version=row.version,
        year_from=row.year_from,
        year_to=row.year_to,
        body=row.body,
        drive=row.drive,
        motor=row.motor,
        chemistry=_figure([row], "chemistry"),
        nominal_capacity=_figure([row], "nominal_kwh", "kWh"),
        usable_capacity=_figure([row], "usable_kwh", "kWh"),
        rated_range=_figure([row], "rated_range_km", "km"),
        range_rating=row.range_rating,
        warranty=_warranty([row]),
    )


vehicle_models = VehicleModelService()
