"""Plans, their dated terms, and where each API client stands."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.database import insert_ignoring_conflicts
from carpulse.models import Account, AccountRole, DataClient, Plan, PlanTerms


class PlanRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def all(self) -> list[Plan]:
        return list((await self.db.execute(select(Plan).order_by(Plan.created_at, Plan.code))).scalars())

    async def by_code(self, code: str) -> Plan | None:
        return (await self.db.execute(select(Plan).where(Plan.code == code))).scalar_one_or_none()

    async def default(self) -> Plan:
        plan = (await self.db.execute(select(Plan).where(Plan.is_default.is_(True)))).scalars().first()
        if plan is None:
            raise RuntimeError("no default Data API plan: the migration seeds Basic as the default")
        return plan

    async def add(self, plan: Plan, terms: PlanTerms) -> None:
        self.db.add(plan)
        await self.db.flush()
        terms.plan_id = plan.id
        self.db.add(terms)
        await self.db.flush()

    async def terms(self, plan_id: uuid.UUID) -> list[PlanTerms]:
        """Every dated set of terms of a plan, oldest first."""
        statement = select(PlanTerms).where(PlanTerms.plan_id == plan_id).order_by(PlanTerms.effective_from)
        return list((await self.db.execute(statement)).scalars())

    async def terms_on(self, plan_id: uuid.UUID, day: date) -> PlanTerms | None:
        statement = (
            select(PlanTerms)
            .where(PlanTerms.plan_id == plan_id, PlanTerms.effective_from <= day)
            .order_by(PlanTerms.effective_from.desc())
            .limit(1)
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def terms_from(self, plan_id: uuid.UUID, day: date) -> PlanTerms | None:
        statement = select(PlanTerms).where(PlanTerms.plan_id == plan_id, PlanTerms.effective_from == day)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def add_terms(self, terms: PlanTerms) -> None:
        self.db.add(terms)
        await self.db.flush()

    async def clients_on(self, plan_id: uuid.UUID) -> int:
        statement = select(func.count()).select_from(DataClient).where(DataClient.plan_id == plan_id)
        return int((await self.db.execute(statement)).scalar_one())

    async def delete(self, plan: Plan) -> None:
        await self.db.delete(plan)
        await self.db.flush()


class DataClientRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, account_id: uuid.UUID) -> DataClient | None:
        return await self.db.get(DataClient, account_id)

    async def ensure(self, account_id: uuid.UUID, default_plan_id: uuid.UUID) -> DataClient:
        """The client's row, created on the default plan the first time (once, however many calls race)."""
        client = await self.get(account_id)
        if client is not None:
            return client
        values = {"account_id": account_id, "plan_id": default_plan_id}
        await self.db.execute(insert_ignoring_conflicts(self.db, DataClient.__table__, values))
        client = await self.db.get(DataClient, account_id, populate_existing=True)
        if client is None:
            raise RuntimeError("the data client row was neither inserted nor found")
        return client

    async def api_client_accounts(self) -> list[tuple[Account, DataClient | None, Plan | None]]:
        statement = (
            select(Account, DataClient, Plan)
            .outerjoin(DataClient, DataClient.account_id == Account.id)
            .outerjoin(Plan, Plan.id == DataClient.plan_id)
            .where(Account.role == AccountRole.api_client)
            .order_by(Account.created_at)
        )
        return [(row[0], row[1], row[2]) for row in (await self.db.execute(statement)).all()]
