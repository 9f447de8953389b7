"""The model catalogue's queries."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import VehicleModel


def _upsert(db: AsyncSession, values: dict[str, Any]) -> Any:
    """`INSERT … ON CONFLICT (model_id) DO UPDATE` in the session's dialect."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(VehicleModel).values(**values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(VehicleModel).values(**values)  # type: ignore[assignment]
    changed = {name: value for name, value in values.items() if name != "model_id"}
    return statement.on_conflict_do_update(index_elements=["model_id"], set_=changed)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class VehicleModelRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def all(self) -> list[VehicleModel]:
        return list((await self.db.execute(select(VehicleModel).order_by(VehicleModel.model_id))).scalars())

    async def get(self, model_id: str) -> VehicleModel | None:
        return await self.db.get(VehicleModel, model_id)

    async def upsert(self, values: dict[str, Any]) -> None:
        """Insert the row, or bring an existing one in line; replicas doing it at once both succeed."""
        await self.db.execute(_upsert(self.db, values))

    async def of_models(self, make: str, models: Collection[str]) -> list[VehicleModel]:
        statement = (
            select(VehicleModel)
            .where(VehicleModel.make == make, VehicleModel.model.in_(list(models)))
            .order_by(VehicleModel.model_id)
        )
        return list((await self.db.execute(statement)).scalars())

    async def search(
        self, *, query: str | None, make: str | None, limit: int, offset: int
    ) -> tuple[list[VehicleModel], int]:
        """A page of models whose id, make, model or version contains `query` (any case), and the total."""
        statement = select(VehicleModel)
        if query:
            pattern = _like(query)
            statement = statement.where(
                or_(
                    *(
                        func.lower(column).like(pattern, escape="\\")
                        for column in (
                            VehicleModel.model_id,
                            VehicleModel.make,
                            VehicleModel.model,
                            VehicleModel.version,
                        )
                    )
                )
            )
        if make:
            statement = statement.where(func.lower(VehicleModel.make) == make.lower())
        total = (await self.db.execute(select(func.count()).select_from(statement.subquery()))).scalar_one()
        page = statement.order_by(VehicleModel.make, VehicleModel.model, VehicleModel.year_from, VehicleModel.model_id)
        rows = list((await self.db.execute(page.limit(limit).offset(offset))).scalars())
        return rows, int(total)
