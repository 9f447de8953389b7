from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.connect.flow import connect_account

PROBLEM = "application/problem+json"


async def selected_session(client: httpx.AsyncClient, account: str, package: str, count: int | None = None) -> str:
    session_id = str((await connect_account(client, account))["session_id"])
    vins = [v["vin"] for v in (await client.get(f"/api/v1/tesla/session/{session_id}/vehicles")).json()["vehicles"]]
    body = {"vins": vins[: count or len(vins)], "package": package}
    assert (await client.post(f"/api/v1/tesla/session/{session_id}/select", json=body)).status_code == 200
    return session_id


async def create_voucher(client: httpx.AsyncClient, admin_token: str, **fields: Any) -> dict[str, Any]:
    body = {"code": "SPRING25", "kind": "percent", "percent_off": "25"} | fields
    response = await client.post(
        "/api/v1/pricing/vouchers", json=body, headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


class TestCatalog:
    async def test_packages_prices_and_vat(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/pricing/catalog", params={"locale": "sv"})
        assert response.status_code == 200
        body = response.json()
        assert body["vat_rate"] == "25.5"
        assert body["prices_include_vat"] is True
        prices = {p["code"]: p["price_cents"] for p in body["packages"]}
        assert prices == {"basic": 1900, "pro": 2900, "bulk": 14900}
        basic = next(p for p in body["packages"] if p["code"] == "basic")
        assert basic["name"] == "Basrapport"
        assert set(basic["names"]) == {"en", "fi", "sv", "no", "da", "de", "fr", "es", "it"}
        assert basic["volume_tiers"]

    async def test_unknown_locale_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/pricing/catalog", params={"locale": "xx"})
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM


class TestQuote:
    async def test_quote_for_a_selection(self, client: httpx.AsyncClient) -> None:
        session_id = await selected_session(client, "family", "pro")
        response = await client.post("/api/v1/pricing/quote", json={"session_id": session_id})
        assert response.status_code == 200, response.text
        quote = response.json()
        assert quote["subtotal_cents"] == 3 * 2900
        assert quote["discount_cents"] == 870
        assert quote["gross_cents"] == 3 * 2900 - 870
        assert quote["net_cents"] + quote["vat_cents"] == quote["gross_cents"]
        assert quote["vat_rate"] == "25.5"
        assert len(quote["quote_id"]) >= 40

    async def test_a_client_sent_amount_is_ignored(self, client: httpx.AsyncClient) -> None:
        session_id = await selected_session(client, "solo", "basic")
        response = await client.post(
            "/api/v1/pricing/quote", json={"session_id": session_id, "gross_cents": 1, "amount": 1, "price": 1}
        )
        assert response.json()["gross_cents"] == 1900

    async def test_without_a_selection_is_422(self, client: httpx.AsyncClient) -> None:
        session_id = (await connect_account(client, "solo"))["session_id"]
        response = await client.post("/api/v1/pricing/quote", json={"session_id": session_id})
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/nothing-selected"

    async def test_unknown_session_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/pricing/quote", json={"session_id": "x" * 43})
        assert response.status_code == 404

    async def test_voucher_discount_is_applied(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await create_voucher(client, admin_token)
        session_id = await selected_session(client, "solo", "pro")
        quote = (
            await client.post("/api/v1/pricing/quote", json={"session_id": session_id, "voucher_code": "spring25"})
        ).json()
        assert quote["gross_cents"] == 2900 - 725
        assert quote["voucher_code"] == "SPRING25"
        assert quote["lines"][-1]["kind"] == "voucher"


class TestVoucherRules:
    # Each refusal, public and precise: tests/pricing/test_voucher_guarding.py.
    async def test_valid_voucher_previews_the_discount(self, client: httpx.AsyncClient, admin_token: str) -> None:
        await create_voucher(client, admin_token, kind="fixed", percent_off=None, amount_off_cents=500)
        check = await client.post(
            "/api/v1/pricing/validate-voucher", json={"code": "spring25", "package": "basic", "vehicle_count": 1}
        )
        assert check.json() == {
            "valid": True,
            "code": "SPRING25",
            "reason": None,
            "message": None,
            "discount_cents": 500,
            "gross_cents": 1400,
        }


class TestVoucherAdmin:
    async def test_crud_and_deactivate(self, client: httpx.AsyncClient, admin_token: str) -> None:
        auth = {"Authorization": f"Bearer {admin_token}"}
        created = await create_voucher(client, admin_token, max_redemptions=3)
        voucher_id = created["id"]
        assert created["code"] == "SPRING25"
        assert created["uses"] == 0
        patched = await client.patch(
            f"/api/v1/pricing/vouchers/{voucher_id}", json={"max_redemptions": 5}, headers=auth
        )
        assert patched.json()["max_redemptions"] == 5
        listed = await client.get("/api/v1/pricing/vouchers", headers=auth)
        assert [v["code"] for v in listed.json()] == ["SPRING25"]
        deleted = await client.delete(f"/api/v1/pricing/vouchers/{voucher_id}", headers=auth)
        assert deleted.json()["active"] is False
        duplicate = await client.post(
            "/api/v1/pricing/vouchers", json={"code": "spring25", "kind": "percent", "percent_off": "5"}, headers=auth
        )
        assert duplicate.status_code == 409

    @pytest.mark.parametrize(
        "body",
        [
            {"code": "X1", "kind": "percent", "percent_off": "10"},
            {"code": "BADCODE8", "kind": "percent", "percent_off": "10.123"},
            {"code": "BADCODE1", "kind": "percent"},
            {"code": "BADCODE2", "kind": "fixed", "percent_off": "10"},
            {"code": "BADCODE3", "kind": "percent", "percent_off": "150"},
            {"code": "BADCODE4", "kind": "percent", "percent_off": "10", "valid_from": "2026-01-01T00:00:00"},
            # Beyond what the database stores: schemathesis found this one as a 500.
            {"code": "BADCODE5", "kind": "percent", "percent_off": "10", "max_redemptions": 23524953824126664704},
            {"code": "BADCODE6", "kind": "percent", "percent_off": "10", "max_per_customer": 2**31},
            {"code": "BADCODE7", "kind": "percent", "percent_off": "10", "min_amount_cents": 2**40},
        ],
    )
    async def test_bad_vouchers_are_422(
        self, client: httpx.AsyncClient, admin_token: str, body: dict[str, Any]
    ) -> None:
        response = await client.post(
            "/api/v1/pricing/vouchers", json=body, headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM

    async def test_only_admins(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/pricing/vouchers")).status_code == 401
        assert (
            await client.get("/api/v1/pricing/vouchers/not-a-uuid", headers={"Authorization": "Bearer x"})
        ).status_code == 401

    async def test_unknown_voucher_is_404(self, client: httpx.AsyncClient, admin_token: str) -> None:
        auth = {"Authorization": f"Bearer {admin_token}"}
        assert (await client.get("/api/v1/pricing/vouchers/not-a-uuid", headers=auth)).status_code == 404
        assert (
            await client.get("/api/v1/pricing/vouchers/00000000-0000-0000-0000-000000000000", headers=auth)
        ).status_code == 404


class TestVoucherNumbers:
    async def test_percent_reads_the_same_after_a_round_trip(self, client: httpx.AsyncClient, admin_token: str) -> None:
        created = await create_voucher(client, admin_token, percent_off="10")
        fetched = await client.get(
            f"/api/v1/pricing/vouchers/{created['id']}", headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert created["percent_off"] == fetched.json()["percent_off"] == "10"
