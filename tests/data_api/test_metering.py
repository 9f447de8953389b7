"""Metering through HTTP: a billable answer is recorded once, errors are never billed, an Idempotency-Key
replays its answer without billing again, the daily quota answers 429 with its headers, suspension is 403."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from carpulse.models import IdempotentResponse
from carpulse.usage.tasks import forget_kept_answers
from tests.data_api.flow import MODEL_3_VIN, DataClient, data_client

STATIC = f"/api/v1/vehicle/static/{MODEL_3_VIN}"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The plan's per-second burst limit has its own test; here calls come as fast as the test sends them.
    return {"data_api": {"key_cache_seconds": 0}, "rate_limit": {"enabled": False}}


async def usage_of(client: httpx.AsyncClient, owner: DataClient, group_by: str = "endpoint") -> dict[str, Any]:
    response = await client.get("/api/v1/billing/usage", params={"group_by": group_by}, headers=owner.by_key)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def seconds_to_utc_midnight() -> int:
    now = datetime.now(UTC)
    return int((datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=UTC) - now).total_seconds())


class TestBilledOnce:
    async def test_an_answer_is_billed_once_at_the_plans_price_with_quota_headers(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await data_client(app, client)
        response = await client.get(STATIC, headers=owner.by_key)
        assert response.status_code == 200, response.text
        assert response.headers["RateLimit-Limit"] == "100"
        assert response.headers["RateLimit-Remaining"] == "99"
        assert abs(int(response.headers["RateLimit-Reset"]) - seconds_to_utc_midnight()) <= 2
        assert "daily quota" in response.headers["RateLimit-Policy"]
        assert response.headers["CarPulse-Billed-Units"] == "1"

        usage = await usage_of(client, owner)
        (group,) = usage["groups"]
        assert (group["group"], group["calls"], group["units"]) == ("vehicle.static", 1, 1)
        assert (group["amount_minor"], group["unbilled_amount_minor"], group["billed_amount_minor"]) == (10, 10, 0)
        assert usage["totals"] == [
            {
                "currency": "EUR",
                "calls": 1,
                "units": 1,
                "amount_minor": 10,
                "billed_amount_minor": 0,
                "unbilled_amount_minor": 10,
            }
        ]

    @pytest.mark.parametrize(
        ("vin", "status", "check"),
        [
            ("5YJ3E1EB5LF00000", 422, "length"),
            ("5YJ3E1EB5LF0000011", 422, "length"),
            ("5yj3e1eb5lf000001", 422, "case"),
            ("5YJ3E1EB5LF00000I", 422, "letters"),
            ("5YJ3E1EBOLF000001", 422, "letters"),
            ("5YJ3E1EB4LF000001", 422, "check_digit"),
            ("5YJ3E1EB5LF00000\u0421", 422, "characters"),  # Cyrillic Es, which reads as C
            ("5YJ3E1EB5LF00000\uff11", 422, "characters"),  # a full-width 1
            ("AAA3E1EB5LF000001", 404, None),
        ],
        ids=["short", "long", "lower-case", "letter-I", "letter-O", "check-digit", "cyrillic", "full-width", "unknown"],
    )
    async def test_a_bad_or_unknown_vin_is_a_clear_problem_and_not_billed(
        self, app: FastAPI, client: httpx.AsyncClient, vin: str, status: int, check: str | None
    ) -> None:
        owner = await data_client(app, client)
        response = await client.get(f"/api/v1/vehicle/static/{vin}", headers=owner.by_key)
        assert response.status_code == status, response.text
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        if check is not None:
            assert problem["type"].endswith("/invalid-vin")
            assert problem["check"] == check
        else:
            assert problem["type"].endswith("/vin-unknown")
        assert problem["detail"]
        assert (await usage_of(client, owner))["groups"] == []
        # Nor did it take a unit of the quota.
        after = await client.get(STATIC, headers=owner.by_key)
        assert after.headers["RateLimit-Remaining"] == "99"


class TestIdempotency:
    async def test_a_retry_with_the_same_key_gets_the_same_answer_and_is_not_billed_again(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await data_client(app, client)
        headers = {**owner.by_key, "Idempotency-Key": "sync-2026-12-03-0001"}
        first = await client.get(STATIC, headers=headers)
        again = await client.get(STATIC, headers=headers)
        assert first.status_code == again.status_code == 200
        assert again.content == first.content
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["CarPulse-Request-Id"] == first.headers["CarPulse-Request-Id"]
        assert "Idempotent-Replayed" not in first.headers
        (group,) = (await usage_of(client, owner))["groups"]
        assert (group["calls"], group["units"]) == (1, 1)

    async def test_the_same_key_for_another_request_is_refused(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await data_client(app, client)
        headers = {**owner.by_key, "Idempotency-Key": "one-request"}
        assert (await client.get(STATIC, headers=headers)).status_code == 200
        other = await client.get("/api/v1/models/tesla-model-3-long-range-awd/warranty", headers=headers)
        assert other.status_code == 422
        assert other.json()["type"].endswith("/idempotency-key-reused")

    async def test_keys_are_per_client(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        alice = await data_client(app, client, "alice@leasing.example")
        bob = await data_client(app, client, "bob@insurer.example")
        for owner in (alice, bob):
            response = await client.get(STATIC, headers={**owner.by_key, "Idempotency-Key": "shared-name"})
            assert "Idempotent-Replayed" not in response.headers
            assert len((await usage_of(client, owner))["groups"]) == 1

    async def test_after_its_window_the_key_is_a_new_request(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        owner = await data_client(app, client)
        headers = {**owner.by_key, "Idempotency-Key": "nightly-sync"}
        first = await client.get(STATIC, headers=headers)
        async with app.state.carpulse.sessionmaker() as db:
            await db.execute(update(IdempotentResponse).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            await db.commit()
        await forget_kept_answers(app.state.carpulse)
        async with app.state.carpulse.sessionmaker() as db:
            assert (await db.execute(select(func.count()).select_from(IdempotentResponse))).scalar_one() == 0

        later = await client.get(STATIC, headers=headers)
        assert "Idempotent-Replayed" not in later.headers
        assert later.headers["CarPulse-Request-Id"] != first.headers["CarPulse-Request-Id"]
        (group,) = (await usage_of(client, owner))["groups"]
        assert group["calls"] == 2

    @pytest.mark.parametrize("key", ["", "x" * 256, "with space"])
    async def test_a_malformed_key_is_422(self, app: FastAPI, client: httpx.AsyncClient, key: str) -> None:
        owner = await data_client(app, client)
        response = await client.get(STATIC, headers={**owner.by_key, "Idempotency-Key": key})
        assert response.status_code == 422
        assert response.json()["type"].endswith("/invalid-idempotency-key")


class TestDailyQuota:
    async def test_the_101st_basic_call_of_the_day_is_429_until_utc_midnight_and_not_billed(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await data_client(app, client)
        for call in range(100):
            response = await client.get(STATIC, headers=owner.by_key)
            assert response.status_code == 200, (call, response.text)
        assert response.headers["RateLimit-Remaining"] == "0"

        refused = await client.get(STATIC, headers=owner.by_key)
        assert refused.status_code == 429
        problem = refused.json()
        assert problem["type"].endswith("/quota-exceeded")
        assert "100" in problem["detail"]
        assert refused.headers["RateLimit-Limit"] == "100"
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert abs(int(refused.headers["Retry-After"]) - seconds_to_utc_midnight()) <= 2
        assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
        (group,) = (await usage_of(client, owner))["groups"]
        assert (group["calls"], group["units"], group["amount_minor"]) == (100, 100, 1000)

    async def test_a_lost_counter_is_rebuilt_from_the_usage_records(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await data_client(app, client)
        for _ in range(3):
            assert (await client.get(STATIC, headers=owner.by_key)).status_code == 200
        day = datetime.now(UTC).date().isoformat()
        assert await app.state.carpulse.ephemeral.delete(f"quota:{owner.account_id}:{day}")

        response = await client.get(STATIC, headers=owner.by_key)
        assert response.headers["RateLimit-Remaining"] == "96"


class TestSuspension:
    async def test_a_suspended_client_gets_403_and_is_answered_again_once_reinstated(
        self, app: FastAPI, client: httpx.AsyncClient, admin_token: str
    ) -> None:
        owner = await data_client(app, client)
        admin = {"Authorization": f"Bearer {admin_token}"}
        suspended = await client.post(
            f"/api/v1/admin/data-clients/{owner.account_id}/suspend", json={"reason": "unpaid"}, headers=admin
        )
        assert suspended.status_code == 200, suspended.text
        refused = await client.get(STATIC, headers=owner.by_key)
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/client-suspended")

        reinstated = await client.post(f"/api/v1/admin/data-clients/{owner.account_id}/reinstate", headers=admin)
        assert reinstated.json()["suspended_at"] is None
        assert (await client.get(STATIC, headers=owner.by_key)).status_code == 200
        assert len((await usage_of(client, owner))["groups"]) == 1


class TestClientHangingUp:
    async def test_a_call_whose_client_left_is_no_server_error_and_bills_nothing(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        owner = await data_client(app, client)
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}  # the client timed out before its request was read

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        headers = [(b"host", b"testserver"), (b"authorization", owner.by_key["Authorization"].encode())]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/api/v1/vehicle/static/{MODEL_3_VIN}",
            "raw_path": f"/api/v1/vehicle/static/{MODEL_3_VIN}".encode(),
            "query_string": b"",
            "headers": [*headers, (b"idempotency-key", b"gone-before-read")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "root_path": "",
            "state": {},
        }
        await app(scope, receive, send)

        assert [m["status"] for m in sent if m["type"] == "http.response.start"] == []
        usage = (await client.get("/api/v1/billing/usage", headers=owner.by_key)).json()
        assert usage["totals"] == []
