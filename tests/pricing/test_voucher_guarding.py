"""Vouchers against guessing: one public answer, precise reasons for the admin, rate limits, strong codes,
and admin updates validated like creation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.pricing.test_pricing_http import PROBLEM, create_voucher, selected_session

REFUSALS = [
    pytest.param({"active": False}, "inactive", id="inactive"),
    pytest.param({"valid_from": "2999-01-01T00:00:00+00:00"}, "not_started", id="not-started"),
    pytest.param(
        {"valid_until": "2001-01-01T00:00:00+00:00", "valid_from": "2000-01-01T00:00:00+00:00"}, "expired", id="expired"
    ),
    pytest.param({"packages": ["bulk"]}, "package_not_eligible", id="package"),
    pytest.param({"min_amount_cents": 100000}, "minimum_not_met", id="minimum"),
]


def admin(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestOnePublicAnswer:
    @pytest.mark.parametrize(("fields", "reason"), REFUSALS)
    async def test_an_unusable_code_reads_like_an_unknown_one(
        self, client: httpx.AsyncClient, admin_token: str, fields: dict[str, Any], reason: str
    ) -> None:
        await create_voucher(client, admin_token, **fields)
        session_id = await selected_session(client, "solo", "pro")

        async def public(code: str) -> tuple[dict[str, Any], dict[str, Any]]:
            check = await client.post("/api/v1/pricing/validate-voucher", json={"code": code, "session_id": session_id})
            assert check.status_code == 200, check.text
            quote = await client.post("/api/v1/pricing/quote", json={"session_id": session_id, "voucher_code": code})
            assert quote.status_code == 422, quote.text
            assert quote.headers["content-type"] == PROBLEM
            problem = quote.json()
            del problem["request_id"]
            return check.json(), problem

        existing_check, existing_quote = await public("SPRING25")
        unknown_check, unknown_quote = await public("NOSUCHCODE9")

        assert existing_check == unknown_check | {"code": "SPRING25"}
        assert existing_check["valid"] is False
        assert existing_check["reason"] == "unavailable"
        assert existing_quote == unknown_quote
        assert existing_quote["type"] == "/problems/voucher-invalid"
        assert reason not in str(existing_quote)

    @pytest.mark.parametrize(("fields", "reason"), REFUSALS)
    async def test_the_admin_reads_the_precise_reason(
        self, client: httpx.AsyncClient, admin_token: str, fields: dict[str, Any], reason: str
    ) -> None:
        await create_voucher(client, admin_token, **fields)
        session_id = await selected_session(client, "solo", "pro")
        check = await client.post(
            "/api/v1/pricing/vouchers/check",
            json={"code": "spring25", "session_id": session_id},
            headers=admin(admin_token),
        )
        assert check.status_code == 200, check.text
        assert check.json()["valid"] is False
        assert check.json()["reason"] == reason

    async def test_the_admin_check_tells_an_unknown_code(self, client: httpx.AsyncClient, admin_token: str) -> None:
        check = await client.post(
            "/api/v1/pricing/vouchers/check",
            json={"code": "NOSUCHCODE9", "package": "basic", "vehicle_count": 1},
            headers=admin(admin_token),
        )
        assert check.json()["reason"] == "unknown"

    async def test_the_admin_check_is_for_admins_only(self, client: httpx.AsyncClient) -> None:
        check = await client.post(
            "/api/v1/pricing/vouchers/check", json={"code": "SPRING25", "package": "basic", "vehicle_count": 1}
        )
        assert check.status_code == 401
        assert check.headers["content-type"] == PROBLEM


class TestGuessingIsRateLimited:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit": {"policies": {"voucher": "3/minute"}}}

    async def test_validate_voucher_is_limited_by_client_ip(self, client: httpx.AsyncClient) -> None:
        body = {"code": "GUESS1234", "package": "basic", "vehicle_count": 1}
        responses = [await client.post("/api/v1/pricing/validate-voucher", json=body) for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        refused = responses[-1]
        assert refused.headers["content-type"] == PROBLEM
        assert int(refused.headers["retry-after"]) >= 1
        assert "voucher" in refused.json()["detail"]

    async def test_quotes_with_a_code_are_limited_by_session_whatever_the_address(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        session_id = await selected_session(client, "solo", "pro")
        statuses = []
        for number in range(4):
            transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{number + 1}", 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
                quote = await elsewhere.post(
                    "/api/v1/pricing/quote", json={"session_id": session_id, "voucher_code": f"GUESS{number}XYZ"}
                )
                statuses.append(quote.status_code)
        assert statuses == [422, 422, 422, 429]

    async def test_quotes_without_a_code_are_not_counted(self, client: httpx.AsyncClient) -> None:
        session_id = await selected_session(client, "solo", "pro")
        for _ in range(5):
            quote = await client.post("/api/v1/pricing/quote", json={"session_id": session_id})
            assert quote.status_code == 200, quote.text


class TestCodes:
    @pytest.mark.parametrize("code", ["ABC12", "SPRING2", "AAAAAAAAAAAA", "AABBAABBAABB", "12345678", "ABCDEFGH"])
    async def test_short_or_guessable_codes_are_422(
        self, client: httpx.AsyncClient, admin_token: str, code: str
    ) -> None:
        response = await client.post(
            "/api/v1/pricing/vouchers",
            json={"code": code, "kind": "percent", "percent_off": "10"},
            headers=admin(admin_token),
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM

    async def test_without_a_code_one_is_generated(self, client: httpx.AsyncClient, admin_token: str) -> None:
        codes = set()
        for _ in range(2):
            response = await client.post(
                "/api/v1/pricing/vouchers", json={"kind": "percent", "percent_off": "10"}, headers=admin(admin_token)
            )
            assert response.status_code == 201, response.text
            codes.add(response.json()["code"])
        assert len(codes) == 2
        assert all(len(code) >= 16 and code.isalnum() and code.isupper() for code in codes)
        session_id = await selected_session(client, "solo", "pro")
        quote = await client.post(
            "/api/v1/pricing/quote", json={"session_id": session_id, "voucher_code": next(iter(codes)).lower()}
        )
        assert quote.status_code == 200, quote.text


class TestUpdateValidatesLikeCreate:
    @pytest.mark.parametrize(
        "body",
        [
            {"valid_from": "2026-01-01T00:00:00"},
            {"valid_until": "2026-01-01T00:00:00"},
            {"active": None},
            {"min_amount_cents": None},
            {"valid_from": "2030-01-01T00:00:00+00:00", "valid_until": "2029-01-01T00:00:00+00:00"},
            {"packages": []},
            {"max_redemptions": 0},
        ],
    )
    async def test_bad_updates_are_422(self, client: httpx.AsyncClient, admin_token: str, body: dict[str, Any]) -> None:
        created = await create_voucher(client, admin_token)
        response = await client.patch(
            f"/api/v1/pricing/vouchers/{created['id']}", json=body, headers=admin(admin_token)
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        unchanged = await client.get(f"/api/v1/pricing/vouchers/{created['id']}", headers=admin(admin_token))
        assert unchanged.json() == created

    async def test_nullable_fields_still_clear(self, client: httpx.AsyncClient, admin_token: str) -> None:
        created = await create_voucher(client, admin_token, max_redemptions=3, packages=["pro"])
        response = await client.patch(
            f"/api/v1/pricing/vouchers/{created['id']}",
            json={"max_redemptions": None, "packages": None, "valid_until": None},
            headers=admin(admin_token),
        )
        assert response.status_code == 200, response.text
        assert response.json()["max_redemptions"] is None
        assert response.json()["packages"] is None
