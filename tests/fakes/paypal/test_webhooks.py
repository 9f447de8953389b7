from __future__ import annotations

import base64
import json
import re
import zlib

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fakes.paypal import PayPalFake, signed_message
from tests.fakes.paypal.conftest import BASE, Inbox, approve, bearer, create_order, paid_order


async def verify_with_served_certificate(
    http: httpx.AsyncClient, body: bytes, headers: dict[str, str], webhook_id: str
) -> None:
    """What a listener does: fetch the certificate from PAYPAL-CERT-URL and check the RSA signature."""
    pem = (await http.get(headers["PAYPAL-CERT-URL"])).content
    key = x509.load_pem_x509_certificate(pem).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    crc = zlib.crc32(body) & 0xFFFFFFFF
    message = f"{headers['PAYPAL-TRANSMISSION-ID']}|{headers['PAYPAL-TRANSMISSION-TIME']}|{webhook_id}|{crc}"
    key.verify(
        base64.b64decode(headers["PAYPAL-TRANSMISSION-SIG"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


class TestSignature:
    async def test_deliveries_verify_with_the_served_certificate(self, http: httpx.AsyncClient, inbox: Inbox) -> None:
        await paid_order(http)

        assert len(inbox.received) == 2
        for _, body, headers in inbox.received:
            assert headers["PAYPAL-AUTH-ALGO"] == "SHA256withRSA"
            assert headers["PAYPAL-CERT-URL"].startswith(f"{BASE}/v1/notifications/certs/CERT-")
            await verify_with_served_certificate(http, body, headers, "WH-SANDBOX")

    async def test_a_tampered_body_does_not_verify(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        body = b'{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED"}'
        headers = fake.sign(body)

        with pytest.raises(InvalidSignature):
            await verify_with_served_certificate(http, body.replace(b"WH-1", b"WH-2"), headers, "WH-SANDBOX")

    async def test_another_webhook_id_does_not_verify(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        body = b"{}"
        headers = fake.sign(body)

        with pytest.raises(InvalidSignature):
            await verify_with_served_certificate(http, body, headers, "WH-OTHER")

    async def test_sign_uses_given_transmission_fields(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        body = b'{"id":"WH-1"}'
        headers = fake.sign(body, transmission_id="tid-1", transmission_time="2026-11-22T23:31:08Z")

        assert headers["PAYPAL-TRANSMISSION-ID"] == "tid-1"
        assert headers["PAYPAL-TRANSMISSION-TIME"] == "2026-11-22T23:31:08Z"
        await verify_with_served_certificate(http, body, headers, "WH-SANDBOX")

    async def test_crc_is_the_unsigned_decimal(self) -> None:
        body = b"{}"  # crc32 2745614147: the high bit is set, so a signed reading would be negative

        message = signed_message("t", "2026-01-01T00:00:00Z", "WH", body)

        assert message == b"t|2026-01-01T00:00:00Z|WH|2745614147"

    async def test_unknown_certificate_is_404(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v1/notifications/certs/CERT-unknown")

        assert response.status_code == 404


class TestVerifyEndpoint:
    async def test_postback_says_success_for_a_genuine_delivery(self, http: httpx.AsyncClient, inbox: Inbox) -> None:
        order = await create_order(http)
        await approve(http, order["id"])
        _, body, headers = inbox.received[-1]
        request = {
            "auth_algo": headers["PAYPAL-AUTH-ALGO"],
            "cert_url": headers["PAYPAL-CERT-URL"],
            "transmission_id": headers["PAYPAL-TRANSMISSION-ID"],
            "transmission_sig": headers["PAYPAL-TRANSMISSION-SIG"],
            "transmission_time": headers["PAYPAL-TRANSMISSION-TIME"],
            "webhook_id": "WH-SANDBOX",
            "webhook_event": json.loads(body),
        }

        genuine = await http.post(
            "/v1/notifications/verify-webhook-signature", json=request, headers=await bearer(http)
        )
        request["webhook_event"] = {**json.loads(body), "id": "WH-FORGED"}
        forged = await http.post("/v1/notifications/verify-webhook-signature", json=request, headers=await bearer(http))

        assert genuine.json() == {"verification_status": "SUCCESS"}
        assert forged.json() == {"verification_status": "FAILURE"}

    async def test_missing_fields_are_400(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/v1/notifications/verify-webhook-signature",
            json={"auth_algo": "SHA256withRSA"},
            headers=await bearer(http),
        )

        assert response.status_code == 400
        assert response.json()["details"][0]["issue"] == "MISSING_REQUIRED_PARAMETER"


class TestEventShapes:
    async def test_capture_completed_carries_order_custom_id_and_amount(
        self, http: httpx.AsyncClient, fake: PayPalFake
    ) -> None:
        order = await paid_order(http, "0.01")

        event = fake.events[-1].payload
        resource = event["resource"]
        assert event["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
        assert event["resource_type"] == "capture"
        assert (event["event_version"], event["resource_version"]) == ("1.0", "2.0")
        assert re.fullmatch(r"WH-[A-Z0-9]{17}-[A-Z0-9]{17}", event["id"])
        assert resource["supplementary_data"]["related_ids"]["order_id"] == order["id"]
        assert resource["custom_id"] == "ord_1"
        assert resource["amount"] == {"currency_code": "EUR", "value": "0.01"}

    async def test_order_approved_carries_the_order(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        order = await create_order(http)
        await approve(http, order["id"])

        event = fake.events[-1].payload
        assert event["event_type"] == "CHECKOUT.ORDER.APPROVED"
        assert event["resource_type"] == "checkout-order"
        assert event["resource"]["id"] == order["id"]
        assert event["resource"]["status"] == "APPROVED"


class TestDelivery:
    async def test_auto_delivery_happens_inside_the_causing_request(
        self, http: httpx.AsyncClient, fake: PayPalFake, inbox: Inbox
    ) -> None:
        order = await create_order(http)
        await approve(http, order["id"])

        assert [json.loads(body)["event_type"] for _, body, _ in inbox.received] == ["CHECKOUT.ORDER.APPROVED"]
        assert inbox.received[0][0] == "https://app.example/api/v1/payment/webhook/paypal"
        assert fake.pending == []
        assert fake.deliveries[0].ok

    async def test_without_auto_delivery_events_wait_in_the_outbox(self, inbox: Inbox) -> None:
        fake = PayPalFake(send_webhook=inbox, auto_deliver=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE) as http:
            await paid_order(http)

        assert inbox.received == []
        assert len(fake.pending) == 2

        deliveries = await fake.deliver_pending()

        assert [d.event_type for d in deliveries] == ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED"]
        assert fake.pending == []

    async def test_duplicates_send_each_event_again_with_new_transmissions(self, inbox: Inbox) -> None:
        fake = PayPalFake(send_webhook=inbox, auto_deliver=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE) as http:
            await paid_order(http)

        deliveries = await fake.deliver_pending(duplicates=2)

        assert len(deliveries) == 6
        assert len({d.event_id for d in deliveries}) == 2
        assert len({d.transmission_id for d in deliveries}) == 6

    async def test_shuffle_is_reproducible_by_seed(self, inbox: Inbox) -> None:
        orders = []
        for _ in range(2):
            fake = PayPalFake(send_webhook=inbox, auto_deliver=False)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE) as http:
                for value in ("1.00", "2.00", "3.00"):
                    await paid_order(http, value)
            deliveries = await fake.deliver_pending(duplicates=1, shuffle=True, seed=3)
            positions = {event.id: index for index, event in enumerate(fake.events)}
            orders.append([positions[d.event_id] for d in deliveries])

        assert orders[0] == orders[1]
        assert orders[0] != sorted(orders[0])
        assert sorted(orders[0]) == sorted([*range(6), *range(6)])

    async def test_a_failing_listener_keeps_the_event_pending(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        inbox = Inbox(status=500)
        fake.send_webhook = inbox
        order = await create_order(http)
        await approve(http, order["id"])

        assert fake.deliveries[-1].status_code == 500
        assert fake.pending == [fake.events[-1].id]

        inbox.status = 202
        await fake.deliver_pending()

        assert fake.pending == []

    async def test_an_unreachable_listener_is_recorded_not_raised(self) -> None:
        fake = PayPalFake(webhook_url="http://127.0.0.1:9/hook")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE) as http:
            order = await create_order(http)
            await approve(http, order["id"])
        await fake.aclose()

        assert fake.deliveries[-1].status_code is None
        assert fake.deliveries[-1].error
        assert len(fake.pending) == 1

    async def test_redeliver_sends_the_same_event_again(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        order = await create_order(http)
        await approve(http, order["id"])
        first = fake.deliveries[-1]

        again = await fake.redeliver(first.event_id)

        assert again.body == first.body
        assert again.transmission_id != first.transmission_id
        assert again.ok

    async def test_concurrent_delivery_sends_everything(self, inbox: Inbox) -> None:
        fake = PayPalFake(send_webhook=inbox, auto_deliver=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=BASE) as http:
            for value in ("1.00", "2.00"):
                await paid_order(http, value)

        deliveries = await fake.deliver_pending(duplicates=1, concurrency=4)

        assert len(deliveries) == 8
        assert all(d.ok for d in deliveries)
        assert len(inbox.received) == 8
