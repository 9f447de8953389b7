"""Data API plans and where each client stands: plan terms dated by UTC day, suspension.

A plan's quota and prices change from the next UTC day (a new `PlanTerms` row), so a day is billed and
counted under one set of terms and no past usage is ever re-priced. Moving a client to another plan applies
at once: its usage from then on is priced by the new plan (each usage record keeps the price it was billed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cachetools import TTLCache
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.kit.clock import Clock
from carpulse.kit.logs import get_logger
from carpulse.models import Account, AccountRole, DataClient, Plan, PlanTerms
from carpulse.plan.errors import ClientSuspended, DataClientNotFound, PlanCodeTaken, PlanInUse, PlanNotFound
from carpulse.plan.repository import DataClientRepository, PlanRepository
from carpulse.plan.schemas import (
    DataClientRead,
    PlanCreate,
    PlanRead,
    PlanTermsRead,
    PlanUpdate,
)
from carpulse.signup.service import signups
from carpulse.state import State

log = get_logger("carpulse.plan")


@dataclass(frozen=True)
class Standing:
    """What one client may do on one UTC day, and at what price."""

    account_id: uuid.UUID
    day: date
    plan_code: str
    currency: str
    daily_quota: int | None
    unit_price_minor: int
    burst_per_second: int
    suspended: bool


def utc_day(moment: datetime) -> date:
    return moment.date()


def standing_cache(state: State) -> TTLCache[tuple[uuid.UUID, date], Standing]:
    """A replica's memory of client standings: a suspension or plan move reaches every replica within
    `data_api.key_cache_seconds`, as a key's revocation does."""
    cache = state.replica_caches.get("plan.standing")
    if cache is None:
        cache = TTLCache(maxsize=50_000, ttl=state.settings.data_api.key_cache_seconds)
        state.replica_caches["plan.standing"] = cache
    return cache


class PlanService:
    async def standing(self, db: AsyncSession, state: State, account_id: uuid.UUID) -> Standing:
        """The client's plan terms today; `ClientSuspended` when an admin suspended it."""
        day = utc_day(state.clock.now())
        cache = standing_cache(state)
        standing = cache.get((account_id, day))
        if standing is None:
            plans = PlanRepository(db)
            client = await DataClientRepository(db).ensure(account_id, (await plans.default()).id)
            plan = await db.get(Plan, client.plan_id)
            terms = await plans.terms_on(client.plan_id, day)
            if plan is None or terms is None:
                raise RuntimeError(f"plan {client.plan_id} has no terms in force on {day}")
            standing = Standing(
                account_id=account_id,
                day=day,
                plan_code=plan.code,
                currency=plan.currency,
                daily_quota=terms.daily_quota,
                unit_price_minor=terms.unit_price_minor,
                burst_per_second=terms.burst_per_second,
                suspended=client.suspended_at is not None,
            )
            cache[(account_id, day)] = standing
        if standing.suspended:
            raise ClientSuspended("This API client is suspended; contact us to have it reinstated.")
        return standing

    async def read(self, db: AsyncSession, plan: Plan, today: date) -> PlanRead:
        terms = await PlanRepository(db).terms(plan.id)
        current = next((row for row in reversed(terms) if row.effective_from <= today), terms[0])
        scheduled = next((row for row in terms if row.effective_from > today), None)
        return PlanRead(
            code=plan.code,
            name=plan.name,
            currency=plan.currency,
            is_default=plan.is_default,
            current=PlanTermsRead.model_validate(current),
            scheduled=PlanTermsRead.model_validate(scheduled) if scheduled is not None else None,
        )

    async def all(self, db: AsyncSession, clock: Clock) -> list[PlanRead]:
        today = utc_day(clock.now())
        return [await self.read(db, plan, today) for plan in await PlanRepository(db).all()]

    async def get(self, db: AsyncSession, code: str) -> Plan:
        plan = await PlanRepository(db).by_code(code)
        if plan is None:
            raise PlanNotFound(f"No plan has the code {code!r}.")
        return plan

    async def create(self, db: AsyncSession, body: PlanCreate, clock: Clock) -> PlanRead:
        """A new plan, usable today (nothing was billed under it that its terms could rewrite)."""
        plans = PlanRepository(db)
        if await plans.by_code(body.code) is not None:
            raise PlanCodeTaken(f"A plan with the code {body.code!r} exists.")
        today = utc_day(clock.now())
        plan = Plan(code=body.code, name=body.name, currency=body.currency)
        terms = PlanTerms(
            effective_from=today,
            daily_quota=body.daily_quota,
            unit_price_minor=body.unit_price_minor,
            burst_per_second=body.burst_per_second,
        )
        await plans.add(plan, terms)
        log.info("plan.created", plan=plan.code)
        return await self.read(db, plan, today)

    async def update(self, db: AsyncSession, code: str, body: PlanUpdate, clock: Clock) -> PlanRead:
        """Rename at once; new numbers from the next UTC day (a second change that day replaces the first)."""
        plans = PlanRepository(db)
        plan = await self.get(db, code)
        today = utc_day(clock.now())
        changed = body.model_fields_set
        if "name" in changed and body.name is not None:
            plan.name = body.name
        numbers = changed & {"daily_quota", "unit_price_minor", "burst_per_second"}
        if numbers:
            tomorrow = today + timedelta(days=1)
            base = await plans.terms_on(plan.id, tomorrow)
            if base is None:
                raise RuntimeError(f"plan {plan.code} has no terms")
            pending = await plans.terms_from(plan.id, tomorrow)
            if pending is None:
                pending = PlanTerms(
                    plan_id=plan.id,
                    effective_from=tomorrow,
                    daily_quota=base.daily_quota,
                    unit_price_minor=base.unit_price_minor,
                    burst_per_second=base.burst_per_second,
                )
                await plans.add_terms(pending)
            if "daily_quota" in numbers:
                pending.daily_quota = body.daily_quota
            if "unit_price_minor" in numbers and body.unit_price_minor is not None:
                pending.unit_price_minor = body.unit_price_minor
            if "burst_per_second" in numbers and body.burst_per_second is not None:
                pending.burst_per_second = body.burst_per_second
        await db.flush()
        log.info("plan.updated", plan=plan.code, fields=sorted(changed))
        return await self.read(db, plan, today)

    async def delete(self, db: AsyncSession, code: str) -> None:
        plans = PlanRepository(db)
        plan = await self.get(db, code)
        if plan.is_default or await plans.clients_on(plan.id):
            raise PlanInUse(f"The plan {code!r} is the default or has clients; move them to another plan first.")
        await plans.delete(plan)

    async def client(self, db: AsyncSession, account_id: uuid.UUID) -> tuple[Account, DataClient]:
        """An API client account and its standing row; `DataClientNotFound` for any other id."""
        return await self._client(db, account_id)

    async def _client(self, db: AsyncSession, account_id: uuid.UUID) -> tuple[Account, DataClient]:
        account = await db.get(Account, account_id)
        if account is None or account.role is not AccountRole.api_client:
            raise DataClientNotFound("No API client account has this id.")
        plans = PlanRepository(db)
        client = await DataClientRepository(db).ensure(account_id, (await plans.default()).id)
        return account, client

    async def of_client(self, db: AsyncSession, account_id: uuid.UUID, today: date) -> tuple[PlanRead, DataClient]:
        """The client's plan as it reads today, and its standing row (suspension and its reason)."""
        _, client = await self._client(db, account_id)
        plan = await db.get(Plan, client.plan_id)
        if plan is None:
            raise RuntimeError(f"data client {account_id} is on a plan that does not exist")
        return await self.read(db, plan, today), client

    async def _client_read(self, db: AsyncSession, account: Account, client: DataClient) -> DataClientRead:
        plan = await db.get(Plan, client.plan_id)
        return DataClientRead(
            account_id=account.id,
            username=account.username,
            plan=plan.code if plan is not None else "",
            suspended_at=client.suspended_at,
            suspended_reason=client.suspended_reason,
        )

    async def clients(self, db: AsyncSession) -> list[DataClientRead]:
        plans = PlanRepository(db)
        default = await plans.default()
        return [
            DataClientRead(
                account_id=account.id,
                username=account.username,
                plan=plan.code if plan is not None else default.code,
                suspended_at=client.suspended_at if client is not None else None,
                suspended_reason=client.suspended_reason if client is not None else None,
            )
            for account, client, plan in await DataClientRepository(db).api_client_accounts()
        ]

    async def move(self, db: AsyncSession, account_id: uuid.UUID, code: str) -> DataClientRead:
        account, client = await self._client(db, account_id)
        plan = await self.get(db, code)
        client.plan_id = plan.id
        await db.flush()
        log.info("plan.client_moved", account_id=str(account_id), plan=code)
        return await self._client_read(db, account, client)

    async def suspend(
        self, db: AsyncSession, account_id: uuid.UUID, reason: str | None, clock: Clock
    ) -> DataClientRead:
        """Suspend (with a reason) or, with None, reinstate; each replica sees it within a second."""
        account, client = await self._client(db, account_id)
        client.suspended_at = clock.now() if reason is not None else None
        client.suspended_reason = reason
        await db.flush()
        log.info(
            "plan.client_suspended" if reason is not None else "plan.client_reinstated", account_id=str(account_id)
        )
        return await self._client_read(db, account, client)


plans = PlanService()


@signups.on_registered
async def start_on_the_default_plan(db: AsyncSession, account: Account) -> None:
    """A new API client is on the default plan (Basic) from its registration."""
    await DataClientRepository(db).ensure(account.id, (await PlanRepository(db).default()).id)
