from __future__ import annotations

from decimal import Decimal

import httpx

from fakes.paypal import PayPalFake
from tests.fakes.paypal.conftest import approve, bearer, capture, create_order, order_body


class TestCaptureRules:
    async def test_before_approval_is_order_not_approved(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        order = await create_order(http)

        response = await capture(http, order["id"])

        assert response.status_code == 422
        assert response.json()["details"][0]["issue"] == "ORDER_NOT_APPROVED"
        assert fake.captures == {}

    async def test_after_approval_captures_the_exact_amount(self, http: httpx.AsyncClient) -> None:
        order = await create_order(http, order_body("149.00"))
        await approve(http, order["id"])

        response = await capture(http, order["id"], "cap-1")

        body = response.json()
        captured = body["purchase_units"][0]["payments"]["captures"][0]
        assert response.status_code == 201
        assert body["status"] == "COMPLETED"
        assert captured["status"] == "COMPLETED"
        assert captured["amount"] == {"currency_code": "EUR", "value": "149.00"}
        assert captured["custom_id"] == "ord_1"
        breakdown = captured["seller_receivable_breakdown"]
        assert breakdown["gross_amount"]["value"] == "149.00"
        assert Decimal(breakdown["paypal_fee"]["value"]) + Decimal(breakdown["net_amount"]["value"]) == Decimal(
            "149.00"
        )

    async def test_second_capture_with_another_request_id_is_already_captured(self, http: httpx.AsyncClient) -> None:
        order = await create_order(http)
        await approve(http, order["id"])
        await capture(http, order["id"], "cap-1")

        response = await capture(http, order["id"], "cap-2")

        assert response.status_code == 422
        assert response.json()["details"][0]["issue"] == "ORDER_ALREADY_CAPTURED"

    async def test_same_request_id_replays_with_200_and_no_second_capture(
        self, http: httpx.AsyncClient, fake: PayPalFake
    ) -> None:
        order = await create_order(http)
        await approve(http, order["id"])
        first = await capture(http, order["id"], "cap-1")

        replay = await capture(http, order["id"], "cap-1")

        assert (first.status_code, replay.status_code) == (201, 200)
        assert replay.json() == first.json()
        assert len(fake.captures) == 1
        assert [e.event_type for e in fake.events].count("PAYMENT.CAPTURE.COMPLETED") == 1

    async def test_decline_outcome_gives_a_declined_capture(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        order = await create_order(http)
        await approve(http, order["id"], "decline")

        response = await capture(http, order["id"])

        captured = response.json()["purchase_units"][0]["payments"]["captures"][0]
        assert captured["status"] == "DECLINED"
        assert fake.events[-1].event_type == "PAYMENT.CAPTURE.DENIED"

    async def test_voided_order_cannot_be_captured(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        order = await create_order(http)
        await approve(http, order["id"])
        fake.void_order(order["id"])

        response = await capture(http, order["id"])

        assert response.status_code == 422
        assert response.json()["details"][0]["issue"] == "ORDER_EXPIRED"

    async def test_the_capture_can_be_read_with_its_order_id(self, http: httpx.AsyncClient) -> None:
        order = await create_order(http)
        await approve(http, order["id"])
        capture_id = (await capture(http, order["id"])).json()["purchase_units"][0]["payments"]["captures"][0]["id"]

        response = await http.get(f"/v2/payments/captures/{capture_id}", headers=await bearer(http))

        assert response.status_code == 200
        assert response.json()["supplementary_data"]["related_ids"]["order_id"] == order["id"]


class TestInjectedFaults:
    async def test_a_fault_answers_once_then_the_call_works(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        fake.inject_fault(503, operation="get_order")
        order = await create_order(http)
        headers = await bearer(http)

        failed = await http.get(f"/v2/checkout/orders/{order['id']}", headers=headers)
        worked = await http.get(f"/v2/checkout/orders/{order['id']}", headers=headers)

        assert failed.status_code == 503
        assert worked.status_code == 200

    async def test_rate_limit_fault_carries_retry_after(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        fake.inject_fault(429, operation="create_order", retry_after=7)

        response = await http.post("/v2/checkout/orders", json=order_body(), headers=await bearer(http))

        assert response.status_code == 429
        assert response.headers["retry-after"] == "7"
        assert response.json()["details"][0]["issue"] == "RATE_LIMIT_REACHED"

    async def test_an_applied_fault_does_the_work_and_loses_the_answer(
        self, http: httpx.AsyncClient, fake: PayPalFake
    ) -> None:
        order = await create_order(http)
        await approve(http, order["id"])
        fake.inject_fault(500, operation="capture_order", applied=True)

        lost = await capture(http, order["id"], "cap-1")
        replay = await capture(http, order["id"], "cap-1")

        assert lost.status_code == 500
        assert replay.status_code == 200
        assert replay.json()["status"] == "COMPLETED"
        assert len(fake.captures) == 1
