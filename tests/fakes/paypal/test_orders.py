from __future__ import annotations

import re

import httpx
import pytest

from fakes.paypal import PayPalFake
from tests.fakes.paypal.conftest import BASE, bearer, create_order, order_body

ORDER_ID = re.compile(r"[A-Z0-9]{17}")


def links(order: dict[str, object]) -> dict[str, str]:
    raw = order["links"]
    assert isinstance(raw, list)
    return {link["rel"]: link["href"] for link in raw}


class TestCreateOrder:
    async def test_experience_context_asks_for_payer_action(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/v2/checkout/orders", json=order_body(), headers=await bearer(http))

        order = response.json()
        assert response.status_code == 201
        assert ORDER_ID.fullmatch(order["id"])
        assert order["status"] == "PAYER_ACTION_REQUIRED"
        assert set(order) == {"id", "status", "payment_source", "links"}  # return=minimal is the default
        assert links(order)["payer-action"] == f"{BASE}/checkoutnow?token={order['id']}"

    async def test_legacy_application_context_gives_created_and_approve(self, http: httpx.AsyncClient) -> None:
        order = await create_order(http, order_body(legacy=True))

        assert order["status"] == "CREATED"
        assert links(order)["approve"] == f"{BASE}/checkoutnow?token={order['id']}"
        assert "payer-action" not in links(order)

    async def test_representation_echoes_the_purchase_unit(self, http: httpx.AsyncClient) -> None:
        order = await create_order(http)

        unit = order["purchase_units"][0]
        assert unit["amount"]["value"] == "19.00"
        assert unit["amount"]["breakdown"]["item_total"] == {"currency_code": "EUR", "value": "19.00"}
        assert (unit["reference_id"], unit["custom_id"], unit["invoice_id"]) == ("ord_1", "ord_1", "R-2026-000123")
        assert order["intent"] == "CAPTURE"

    async def test_every_response_has_a_debug_id(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/v2/checkout/orders", json=order_body(), headers=await bearer(http))

        assert re.fullmatch(r"[0-9a-f]{14}", response.headers["paypal-debug-id"])

    async def test_the_fake_keeps_the_order(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        order = await create_order(http)

        stored = fake.orders[order["id"]]
        assert stored.return_url == "https://shop.example/paypal/return?order=ord_1"
        assert stored.purchase_units[0].custom_id == "ord_1"


class TestCreateValidation:
    @pytest.mark.parametrize(
        ("body", "status", "issue"),
        [
            (order_body("19.001"), 422, "DECIMAL_PRECISION"),
            (order_body("19,00"), 400, "INVALID_PARAMETER_SYNTAX"),
            (order_body("0.00"), 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
            (
                order_body(
                    "19.00",
                    amount={
                        "currency_code": "EUR",
                        "value": "19.00",
                        "breakdown": {
                            "item_total": {"currency_code": "EUR", "value": "15.14"},
                            "tax_total": {"currency_code": "EUR", "value": "3.85"},
                        },
                    },
                ),
                422,
                "AMOUNT_MISMATCH",
            ),
            (
                order_body(
                    "19.00",
                    items=[
                        {"name": "Report", "quantity": "2", "unit_amount": {"currency_code": "EUR", "value": "9.00"}}
                    ],
                ),
                422,
                "ITEM_TOTAL_MISMATCH",
            ),
            ({"intent": "CAPTURE", "purchase_units": []}, 400, "MISSING_REQUIRED_PARAMETER"),
            ({"intent": "SELL", "purchase_units": [{}]}, 400, "INVALID_PARAMETER_VALUE"),
        ],
    )
    async def test_inconsistent_orders_are_refused_with_the_issue(
        self, http: httpx.AsyncClient, body: dict[str, object], status: int, issue: str
    ) -> None:
        response = await http.post("/v2/checkout/orders", json=body, headers=await bearer(http))

        error = response.json()
        assert response.status_code == status
        assert error["details"][0]["issue"] == issue
        assert error["name"] == ("UNPROCESSABLE_ENTITY" if status == 422 else "INVALID_REQUEST")
        assert error["debug_id"]

    async def test_items_with_tax_need_a_matching_tax_total(self, http: httpx.AsyncClient) -> None:
        body = order_body(
            "19.00",
            amount={
                "currency_code": "EUR",
                "value": "19.00",
                "breakdown": {
                    "item_total": {"currency_code": "EUR", "value": "15.14"},
                    "tax_total": {"currency_code": "EUR", "value": "3.86"},
                },
            },
            items=[
                {
                    "name": "Basic vehicle report",
                    "quantity": "1",
                    "unit_amount": {"currency_code": "EUR", "value": "15.14"},
                    "tax": {"currency_code": "EUR", "value": "3.86"},
                    "category": "DIGITAL_GOODS",
                }
            ],
        )

        response = await http.post("/v2/checkout/orders", json=body, headers=await bearer(http))

        assert response.status_code == 201, response.text


class TestIdempotentCreate:
    async def test_same_request_id_returns_the_same_order_with_200(self, http: httpx.AsyncClient) -> None:
        headers = await bearer(http) | {"PayPal-Request-Id": "order:ord_1:pp-create"}
        first = await http.post("/v2/checkout/orders", json=order_body(), headers=headers)
        second = await http.post("/v2/checkout/orders", json=order_body("29.00"), headers=headers)

        assert (first.status_code, second.status_code) == (201, 200)
        assert second.json()["id"] == first.json()["id"]

    async def test_another_request_id_creates_another_order(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        first = await create_order(http, request_id="a")
        second = await create_order(http, request_id="b")

        assert first["id"] != second["id"]
        assert len(fake.orders) == 2

    async def test_an_overlong_request_id_is_refused(self, http: httpx.AsyncClient) -> None:
        headers = await bearer(http) | {"PayPal-Request-Id": "x" * 109}

        response = await http.post("/v2/checkout/orders", json=order_body(), headers=headers)

        assert response.status_code == 400


class TestGetOrder:
    async def test_returns_the_full_order(self, http: httpx.AsyncClient) -> None:
        created = await create_order(http)

        response = await http.get(f"/v2/checkout/orders/{created['id']}", headers=await bearer(http))

        assert response.status_code == 200
        assert response.json()["purchase_units"][0]["amount"]["value"] == "19.00"

    async def test_unknown_order_is_404_with_paypal_error_body(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v2/checkout/orders/5O190127TN364715T", headers=await bearer(http))

        error = response.json()
        assert response.status_code == 404
        assert error["name"] == "RESOURCE_NOT_FOUND"
        assert error["details"][0]["issue"] == "INVALID_RESOURCE_ID"
