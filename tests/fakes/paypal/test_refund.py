from __future__ import annotations

from collections.abc import Mapping

import httpx

from fakes.paypal import PayPalFake
from tests.fakes.paypal.conftest import bearer, paid_order


async def refund(
    http: httpx.AsyncClient, capture_id: str, body: Mapping[str, object] | None = None, request_id: str | None = None
) -> httpx.Response:
    headers = await bearer(http)
    if request_id:
        headers["PayPal-Request-Id"] = request_id
    return await http.post(f"/v2/payments/captures/{capture_id}/refund", json=dict(body or {}), headers=headers)


def capture_id_of(order: dict[str, object]) -> str:
    units = order["purchase_units"]
    assert isinstance(units, list)
    return str(units[0]["payments"]["captures"][0]["id"])


class TestRefund:
    async def test_empty_body_refunds_everything(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        capture_id = capture_id_of(await paid_order(http))

        response = await refund(http, capture_id)

        body = response.json()
        assert response.status_code == 201
        assert body["status"] == "COMPLETED"
        assert body["amount"] == {"currency_code": "EUR", "value": "19.00"}
        assert body["custom_id"] == "ord_1"
        assert {link["rel"] for link in body["links"]} == {"self", "up"}
        assert fake.captures[capture_id].status == "REFUNDED"
        assert fake.events[-1].event_type == "PAYMENT.CAPTURE.REFUNDED"

    async def test_partial_refund_leaves_the_capture_partially_refunded(
        self, http: httpx.AsyncClient, fake: PayPalFake
    ) -> None:
        capture_id = capture_id_of(await paid_order(http))

        response = await refund(http, capture_id, {"amount": {"currency_code": "EUR", "value": "4.00"}})

        assert response.status_code == 201
        assert response.json()["seller_payable_breakdown"]["total_refunded_amount"]["value"] == "4.00"
        assert fake.captures[capture_id].status == "PARTIALLY_REFUNDED"

    async def test_more_than_the_remainder_is_refused(self, http: httpx.AsyncClient) -> None:
        capture_id = capture_id_of(await paid_order(http))
        await refund(http, capture_id, {"amount": {"currency_code": "EUR", "value": "10.00"}})

        response = await refund(http, capture_id, {"amount": {"currency_code": "EUR", "value": "9.01"}})

        assert response.status_code == 422
        assert response.json()["details"][0]["issue"] == "REFUND_AMOUNT_EXCEEDED"

    async def test_fully_refunded_capture_is_refused(self, http: httpx.AsyncClient) -> None:
        capture_id = capture_id_of(await paid_order(http))
        await refund(http, capture_id)

        response = await refund(http, capture_id)

        assert response.status_code == 422
        assert response.json()["details"][0]["issue"] == "CAPTURE_FULLY_REFUNDED"

    async def test_same_request_id_replays_the_refund(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        capture_id = capture_id_of(await paid_order(http))
        amount = {"amount": {"currency_code": "EUR", "value": "1.00"}}

        first = await refund(http, capture_id, amount, "refund-1")
        again = await refund(http, capture_id, amount, "refund-1")

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        assert len(fake.refunds) == 1

    async def test_unknown_capture_is_404(self, http: httpx.AsyncClient) -> None:
        response = await refund(http, "3C679366HH908993F")

        assert response.status_code == 404
        assert response.json()["name"] == "RESOURCE_NOT_FOUND"
