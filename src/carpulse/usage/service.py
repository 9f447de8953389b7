"""Metering: the daily quota checked before the work, the billable answer recorded in its own transaction.

The quota counter lives in the ephemeral store (Redis in production) under `quota:<account>:<UTC day>`;
the usage records in SQL are the truth. A counter that is missing (a new day, or a Redis that lost it) is
rebuilt from that day's usage records before it counts, and with the store unreachable the count is read
from SQL directly. A unit is reserved before the work and given back when the answer is not billed (an
error of the caller's or ours), so a crash between the two can only under-use a client's quota for the
day, never bill it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.kit.logs import get_logger
from carpulse.models import UsageRecord
from carpulse.plan.service import Standing
from carpulse.state import State
from carpulse.usage.errors import QuotaExceeded
from carpulse.usage.repository import UsageRepository
from carpulse.usage.schemas import GroupBy, UsageGroup, UsageReport, UsageTotal

log = get_logger("carpulse.usage")

DAY_SECONDS = 86_400


@dataclass
class Reservation:
    """Units taken from a day's quota for one call; `counted` when the shared counter holds them."""

    standing: Standing
    units: int
    used: int  # the day's units with these
    counted: bool

    def headers(self, now: datetime) -> dict[str, str]:
        """The quota's `RateLimit-*` headers (none for an unlimited plan)."""
        return quota_headers(self.standing, self.used, now)


def seconds_to_midnight(now: datetime) -> int:
    midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)
    return max(1, int((midnight - now).total_seconds() + 0.999))


def quota_headers(standing: Standing, used: int, now: datetime) -> dict[str, str]:
    quota = standing.daily_quota
    if quota is None:
        return {}
    return {
        "RateLimit-Limit": str(quota),
        "RateLimit-Remaining": str(max(0, quota - used)),
        "RateLimit-Reset": str(seconds_to_midnight(now)),
        "RateLimit-Policy": f'{quota};w={DAY_SECONDS};comment="daily quota, {standing.plan_code} plan"',
    }


def _group_name(value: object) -> str:
    if value is None:
        return "jwt"  # calls made with the account's token, not a key
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _counter(account_id: uuid.UUID, day: date) -> str:
    return f"quota:{account_id}:{day.isoformat()}"


class UsageService:
    async def reserve(self, db: AsyncSession, state: State, standing: Standing, units: int) -> Reservation:
        """Take `units` of today's quota, or raise `QuotaExceeded` (429 with `Retry-After` to UTC midnight)."""
        now = state.clock.now()
        quota = standing.daily_quota
        if quota is None:
            return Reservation(standing, units, 0, counted=False)
        key = _counter(standing.account_id, standing.day)
        store = state.ephemeral
        counted = True
        try:
            used = await store.add_to_existing(key, units)
            if used is None:
                # A new day, or a counter the store lost: start from what SQL says was billed today.
                billed = await UsageRepository(db).units_on(standing.account_id, standing.day)
                await store.set_if_absent(key, str(billed), ttl_seconds=seconds_to_midnight(now) + 3600)
                used = await store.add_to_existing(key, units)
                if used is None:
                    used, counted = billed + units, False
        except (RedisError, OSError) as exc:
            log.warning("usage.quota_store_unavailable", error=str(exc))
            used = await UsageRepository(db).units_on(standing.account_id, standing.day) + units
            counted = False
        if used > quota:
            if counted:
                await self._give_back(state, key, units)
            headers = quota_headers(standing, quota, now)
            headers["Retry-After"] = headers["RateLimit-Reset"]
            raise QuotaExceeded(
                f"The {standing.plan_code} plan's {quota} requests for {standing.day.isoformat()} (UTC) are used; "
                f"the quota starts again at 00:00 UTC, in {headers['Retry-After']} s.",
                headers=headers,
            )
        return Reservation(standing, units, used, counted)

    async def release(self, state: State, reservation: Reservation, units: int | None = None) -> None:
        """Give back what was not billed: all of it, or `units` of it (a batch that answered fewer VINs)."""
        back = reservation.units if units is None else units
        if back <= 0:
            return
        reservation.used -= back
        reservation.units -= back
        if reservation.counted:
            await self._give_back(state, _counter(reservation.standing.account_id, reservation.standing.day), back)

    async def _give_back(self, state: State, key: str, units: int) -> None:
        try:
            await state.ephemeral.add_to_existing(key, -units)
        except (RedisError, OSError) as exc:
            log.warning("usage.quota_store_unavailable", error=str(exc))

    async def record(
        self,
        db: AsyncSession,
        standing: Standing,
        *,
        request_id: str,
        api_key_id: uuid.UUID | None,
        endpoint: str,
        vin: str | None,
        units: int,
        now: datetime,
    ) -> UsageRecord:
        """The billable answer, priced by the plan's terms of the day; flushed in the answer's transaction."""
        record = UsageRecord(
            request_id=request_id,
            account_id=standing.account_id,
            api_key_id=api_key_id,
            endpoint=endpoint,
            vin=vin,
            units=units,
            plan_code=standing.plan_code,
            unit_price_minor=standing.unit_price_minor,
            amount_minor=units * standing.unit_price_minor,
            currency=standing.currency,
            occurred_at=now,
            day=standing.day,
        )
        await UsageRepository(db).add(record)
        return record

    async def report(
        self, db: AsyncSession, account_id: uuid.UUID, first: date, last: date, group_by: GroupBy
    ) -> UsageReport:
        rows = await UsageRepository(db).grouped(account_id, first, last, group_by)
        groups = [
            UsageGroup(
                group=_group_name(row["group"]),
                currency=row["currency"],
                calls=int(row["calls"]),
                units=int(row["units"]),
                amount_minor=int(row["amount_minor"]),
                billed_units=int(row["billed_units"]),
                billed_amount_minor=int(row["billed_amount_minor"]),
                unbilled_units=int(row["units"]) - int(row["billed_units"]),
                unbilled_amount_minor=int(row["amount_minor"]) - int(row["billed_amount_minor"]),
            )
            for row in rows
        ]
        totals: dict[str, UsageTotal] = {}
        for group in groups:
            total = totals.setdefault(
                group.currency,
                UsageTotal(
                    currency=group.currency,
                    calls=0,
                    units=0,
                    amount_minor=0,
                    billed_amount_minor=0,
                    unbilled_amount_minor=0,
                ),
            )
            total.calls += group.calls
            total.units += group.units
            total.amount_minor += group.amount_minor
            total.billed_amount_minor += group.billed_amount_minor
            total.unbilled_amount_minor += group.unbilled_amount_minor
        return UsageReport.model_validate(
            {"from": first, "to": last, "group_by": group_by, "groups": groups, "totals": list(totals.values())}
        )


usage = UsageService()
