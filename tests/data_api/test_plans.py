"""Plans through the admin API: the seed's three, a change from the next UTC day that never re-prices the past,
a client moved between plans, plans added and removed; and the per-second burst limit of a plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carpulse.kit.clock import FrozenClock
from tests.data_api.flow import MODEL_3_VIN, data_client

STATIC = f"/api/v1/vehicle/static/{MODEL_3_VIN}"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"data_api": {"key_cache_seconds": 0}}


def admin(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestSeedPlans:
    async def test_basic_premium_enterprise_as_the_seed_prices_them(
        self, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        plans = (await client.get("/api/v1/admin/plans", headers=admin(admin_token))).json()["plans"]
        terms = {plan["code"]: (plan["current"]["daily_quota"], plan["current"]["unit_price_minor"]) for plan in plans}
        assert terms == {"basic": (100, 10), "premium": (1000, 5), "enterprise": (None, 3)}
        assert [plan["code"] for plan in plans if plan["is_default"]] == ["basic"]

    async def test_only_an_admin_sees_them(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await data_client(app, client)
        assert (await client.get("/api/v1/admin/plans", headers=owner.by_token)).status_code == 403
        assert (await client.get("/api/v1/admin/plans")).status_code == 401


class TestChangeFromTomorrow:
    async def test_a_price_change_waits_for_the_next_utc_day_and_the_past_keeps_its_price(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        state = app.state.carpulse
        today = datetime.now(UTC)  # tokens are checked against real time too
        state.clock = FrozenClock(today)
        owner = await data_client(app, client)
        assert (await client.get(STATIC, headers=owner.by_key)).status_code == 200

        changed = await client.patch(
            "/api/v1/admin/plans/basic",
            json={"unit_price_minor": 20, "daily_quota": 200, "name": "Basic 2027"},
            headers=admin(admin_token),
        )
        assert changed.status_code == 200, changed.text
        plan = changed.json()
        assert plan["name"] == "Basic 2027"
        assert (plan["current"]["unit_price_minor"], plan["current"]["daily_quota"]) == (10, 100)
        assert plan["scheduled"]["effective_from"] == (today + timedelta(days=1)).date().isoformat()
        assert (plan["scheduled"]["unit_price_minor"], plan["scheduled"]["daily_quota"]) == (20, 200)

        same_day = await client.get(STATIC, headers=owner.by_key)
        assert same_day.headers["RateLimit-Limit"] == "100"
        state.clock.advance(24 * 3600)
        next_day = await client.get(STATIC, headers=owner.by_key)
        assert next_day.headers["RateLimit-Limit"] == "200"
        assert next_day.headers["RateLimit-Remaining"] == "199"

        usage = await client.get(
            "/api/v1/billing/usage",
            params={"from": today.date().isoformat(), "to": (today + timedelta(days=1)).date().isoformat()},
            headers=owner.by_key,
        )
        by_day = {group["group"]: group["amount_minor"] for group in usage.json()["groups"]}
        assert by_day == {today.date().isoformat(): 20, (today + timedelta(days=1)).date().isoformat(): 20}

    async def test_unlimited_can_be_scheduled_with_null(self, client: httpx.AsyncClient, admin_token: str) -> None:
        changed = await client.patch(
            "/api/v1/admin/plans/premium", json={"daily_quota": None}, headers=admin(admin_token)
        )
        assert changed.json()["scheduled"]["daily_quota"] is None
        assert changed.json()["current"]["daily_quota"] == 1000


class TestClients:
    async def test_a_client_moved_to_enterprise_has_no_daily_quota_and_its_price(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        owner = await data_client(app, client)
        moved = await client.put(
            f"/api/v1/admin/data-clients/{owner.account_id}/plan",
            json={"plan": "enterprise"},
            headers=admin(admin_token),
        )
        assert moved.json()["plan"] == "enterprise"
        response = await client.get(STATIC, headers=owner.by_key)
        assert response.status_code == 200
        # No daily quota to count down: the answer says the plan's per-second limit instead.
        assert "daily quota" not in response.headers["RateLimit-Policy"]
        assert response.headers["RateLimit-Limit"] == "100"
        assert ";w=1;" in response.headers["RateLimit-Policy"]
        usage = (await client.get("/api/v1/billing/usage", headers=owner.by_key)).json()
        assert usage["totals"][0]["amount_minor"] == 3

    async def test_unknown_plan_or_client_is_404(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        owner = await data_client(app, client)
        headers = admin(admin_token)
        unknown_plan = await client.put(
            f"/api/v1/admin/data-clients/{owner.account_id}/plan", json={"plan": "gold"}, headers=headers
        )
        assert unknown_plan.status_code == 404
        assert unknown_plan.json()["type"].endswith("/plan-not-found")
        stranger = "00000000-0000-4000-8000-000000000000"
        unknown_client = await client.post(
            f"/api/v1/admin/data-clients/{stranger}/suspend", json={"reason": "x"}, headers=headers
        )
        assert unknown_client.status_code == 404

    async def test_plans_are_added_and_removed_but_not_while_in_use(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        headers = admin(admin_token)
        body = {
            "code": "fleet-2027",
            "name": "Fleet",
            "daily_quota": 5000,
            "unit_price_minor": 4,
            "burst_per_second": 50,
        }
        created = await client.post("/api/v1/admin/plans", json=body, headers=headers)
        assert created.status_code == 201
        assert created.json()["current"]["effective_from"] == datetime.now(UTC).date().isoformat()
        assert (await client.post("/api/v1/admin/plans", json=body, headers=headers)).status_code == 409
        owner = await data_client(app, client)
        await client.put(
            f"/api/v1/admin/data-clients/{owner.account_id}/plan", json={"plan": "fleet-2027"}, headers=headers
        )
        in_use = await client.delete("/api/v1/admin/plans/fleet-2027", headers=headers)
        assert in_use.status_code == 409
        assert (await client.delete("/api/v1/admin/plans/basic", headers=headers)).status_code == 409
        await client.put(f"/api/v1/admin/data-clients/{owner.account_id}/plan", json={"plan": "basic"}, headers=headers)
        assert (await client.delete("/api/v1/admin/plans/fleet-2027", headers=headers)).status_code == 204

    @pytest.mark.parametrize(
        "body",
        [
            {"code": "Bad Code", "name": "x", "daily_quota": 1, "unit_price_minor": 1, "burst_per_second": 1},
            {"code": "neg", "name": "x", "daily_quota": 1, "unit_price_minor": -1, "burst_per_second": 1},
            {
                "code": "usd",
                "name": "x",
                "currency": "USD",
                "daily_quota": 1,
                "unit_price_minor": 1,
                "burst_per_second": 1,
            },
        ],
        ids=["code", "negative-price", "currency"],
    )
    async def test_bad_plans_are_422(self, client: httpx.AsyncClient, admin_token: str, body: dict[str, Any]) -> None:
        response = await client.post("/api/v1/admin/plans", json=body, headers=admin(admin_token))
        assert response.status_code == 422


class TestBurst:
    async def test_more_than_the_plans_requests_per_second_is_429_and_not_billed(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await data_client(app, client)
        statuses = [(await client.get(STATIC, headers=owner.by_key)).status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5  # Basic: 5 a second
        assert 429 in statuses[5:]
        refused = await client.get(STATIC, headers=owner.by_key)
        if refused.status_code == 429:
            assert refused.json()["type"].endswith("/rate-limited")
            assert int(refused.headers["Retry-After"]) >= 1
        usage = (await client.get("/api/v1/billing/usage", headers=owner.by_key)).json()
        assert usage["totals"][0]["calls"] == statuses.count(200) + (refused.status_code == 200)
