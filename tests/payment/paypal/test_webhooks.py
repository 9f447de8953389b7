from __future__ import annotations

import json

import pytest

from carpulse.payment.gateway import PaymentStatus, WebhookSignatureInvalid
from carpulse.payment.paypal.schemas import RefundCreate
from carpulse.payment.paypal.signature import certificate_url_allowed
from fakes.paypal import PayPalFake
from tests.payment.paypal.conftest import PayPalRig

CERT_PATH = "/v1/notifications/certs/"


async def paid(paypal: PayPalRig, cents: int = 1900) -> str:
    started = await paypal.approved(cents)
    outcome = await paypal.gateway.capture(started.provider_payment_id, "order:ord_7Hk2:capture")
    assert outcome.reference is not None
    return outcome.reference


def certificate_fetches(paypal: PayPalRig) -> int:
    return sum(1 for path in paypal.transport.paths("GET") if path.startswith(CERT_PATH))


class TestGenuineDeliveries:
    async def test_capture_completed_is_succeeded_with_our_order_and_amount(self, paypal: PayPalRig) -> None:
        capture_id = await paid(paypal, 14900)
        body, headers = paypal.inbox.last("PAYMENT.CAPTURE.COMPLETED")

        event = await paypal.gateway.parse_webhook(body, headers)

        assert event.provider == "paypal"
        assert event.event_id == json.loads(body)["id"]
        assert event.event_type == "PAYMENT.CAPTURE.COMPLETED"
        assert event.outcome is not None
        assert event.outcome.status is PaymentStatus.succeeded
        assert event.outcome.provider_payment_id == paypal.fake.captures[capture_id].order_id
        assert (event.outcome.order_id, event.outcome.reference) == ("ord_7Hk2", capture_id)
        assert (event.outcome.amount_cents, event.outcome.currency) == (14900, "EUR")

    async def test_order_approved_is_pending(self, paypal: PayPalRig) -> None:
        started = await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")

        event = await paypal.gateway.parse_webhook(body, headers)

        assert event.outcome is not None
        assert event.outcome.status is PaymentStatus.pending
        assert event.outcome.provider_payment_id == started.provider_payment_id
        assert (event.outcome.order_id, event.outcome.amount_cents) == ("ord_7Hk2", 1900)

    async def test_capture_denied_is_failed(self, paypal: PayPalRig) -> None:
        started = await paypal.approved(outcome="decline")
        await paypal.gateway.capture(started.provider_payment_id, "k")
        body, headers = paypal.inbox.last("PAYMENT.CAPTURE.DENIED")

        event = await paypal.gateway.parse_webhook(body, headers)

        assert event.outcome is not None
        assert event.outcome.status is PaymentStatus.failed
        assert event.outcome.order_id == "ord_7Hk2"

    async def test_capture_refunded_is_refunded_with_the_total_refunded(self, paypal: PayPalRig) -> None:
        capture_id = await paid(paypal)
        await paypal.gateway.client.refund_capture(capture_id, request_id="r", refund=RefundCreate())
        body, headers = paypal.inbox.last("PAYMENT.CAPTURE.REFUNDED")

        event = await paypal.gateway.parse_webhook(body, headers)

        assert event.outcome is not None
        assert event.outcome.status is PaymentStatus.refunded
        assert (event.outcome.order_id, event.outcome.reference) == ("ord_7Hk2", capture_id)
        assert (event.outcome.amount_cents, event.outcome.currency) == (1900, "EUR")

    async def test_other_event_types_are_accepted_without_an_outcome(self, paypal: PayPalRig) -> None:
        body = json.dumps({"id": "WH-1", "event_type": "CUSTOMER.DISPUTE.CREATED", "resource": {}}).encode()

        event = await paypal.gateway.parse_webhook(body, paypal.fake.sign(body))

        assert event.outcome is None
        assert event.event_type == "CUSTOMER.DISPUTE.CREATED"

    async def test_header_names_are_case_insensitive(self, paypal: PayPalRig) -> None:
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")

        event = await paypal.gateway.parse_webhook(body, {k.lower(): v for k, v in headers.items()})

        assert event.event_type == "CHECKOUT.ORDER.APPROVED"

    async def test_the_certificate_is_fetched_once_per_url(self, paypal: PayPalRig) -> None:
        await paid(paypal)
        for body, headers in paypal.inbox.received:
            await paypal.gateway.parse_webhook(body, headers)
        await paypal.gateway.parse_webhook(*paypal.inbox.received[0])

        assert len(paypal.inbox.received) == 2
        assert certificate_fetches(paypal) == 1

    async def test_a_stored_body_is_read_again_without_paypal(self, paypal: PayPalRig) -> None:
        await paid(paypal)
        body, headers = paypal.inbox.last("PAYMENT.CAPTURE.COMPLETED")
        parsed = await paypal.gateway.parse_webhook(body, headers)
        requests = len(paypal.transport.requests)

        replayed = paypal.gateway.read_event(body)

        assert replayed == parsed
        assert len(paypal.transport.requests) == requests


class TestRejectedDeliveries:
    async def test_a_forged_signature(self, paypal: PayPalRig) -> None:
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")
        forger = PayPalFake(webhook_id="WH-SANDBOX")  # same message, another key
        forged = forger.sign(body, headers["PAYPAL-TRANSMISSION-ID"], headers["PAYPAL-TRANSMISSION-TIME"])

        with pytest.raises(WebhookSignatureInvalid, match="does not match"):
            await paypal.gateway.parse_webhook(
                body, headers | {"PAYPAL-TRANSMISSION-SIG": forged["PAYPAL-TRANSMISSION-SIG"]}
            )

    async def test_a_tampered_body(self, paypal: PayPalRig) -> None:
        await paid(paypal)
        body, headers = paypal.inbox.last("PAYMENT.CAPTURE.COMPLETED")
        tampered = body.replace(b'"value":"19.00"', b'"value":"0.01"')
        assert tampered != body

        with pytest.raises(WebhookSignatureInvalid, match="does not match"):
            await paypal.gateway.parse_webhook(tampered, headers)

    async def test_a_signature_for_another_webhook_id(self, paypal: PayPalRig) -> None:
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")
        ours = paypal.gateway_with(webhook_id="WH-OURS")

        with pytest.raises(WebhookSignatureInvalid, match="does not match"):
            await ours.parse_webhook(body, headers)

    async def test_a_genuine_delivery_for_another_merchants_webhook(self, paypal: PayPalRig) -> None:
        # PayPal's own key and certificate, but signed for someone else's webhook id: replayed to us.
        paypal.fake.webhook_id = "WH-ANOTHER-MERCHANT"
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")

        with pytest.raises(WebhookSignatureInvalid, match="does not match"):
            await paypal.gateway.parse_webhook(body, headers | {"PAYPAL-WEBHOOK-ID": "WH-ANOTHER-MERCHANT"})

    async def test_a_certificate_on_a_foreign_host_is_never_fetched(self, paypal: PayPalRig) -> None:
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")
        requests = len(paypal.transport.requests)
        evil = headers | {"PAYPAL-CERT-URL": "https://evil.example/v1/notifications/certs/CERT-1"}

        with pytest.raises(WebhookSignatureInvalid, match="allowed PayPal host"):
            await paypal.gateway.parse_webhook(body, evil)

        assert len(paypal.transport.requests) == requests
        assert all(request.url.host != "evil.example" for request in paypal.transport.requests)

    async def test_an_unknown_algorithm(self, paypal: PayPalRig) -> None:
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")

        with pytest.raises(WebhookSignatureInvalid, match="algorithm"):
            await paypal.gateway.parse_webhook(body, headers | {"PAYPAL-AUTH-ALGO": "SHA1withRSA"})

        assert certificate_fetches(paypal) == 0

    @pytest.mark.parametrize("missing", ["PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL", "PAYPAL-TRANSMISSION-ID"])
    async def test_a_missing_header(self, paypal: PayPalRig, missing: str) -> None:
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")
        headers = {k: v for k, v in headers.items() if k != missing}

        with pytest.raises(WebhookSignatureInvalid, match="missing"):
            await paypal.gateway.parse_webhook(body, headers)

    async def test_a_signature_that_is_not_base64(self, paypal: PayPalRig) -> None:
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")

        with pytest.raises(WebhookSignatureInvalid, match="base64"):
            await paypal.gateway.parse_webhook(body, headers | {"PAYPAL-TRANSMISSION-SIG": "not base64!"})

    async def test_a_certificate_url_that_does_not_exist_on_an_allowed_host(self, paypal: PayPalRig) -> None:
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")
        missing = headers | {"PAYPAL-CERT-URL": "http://paypal.test/v1/notifications/certs/CERT-nope"}

        with pytest.raises(WebhookSignatureInvalid, match="could not be fetched"):
            await paypal.gateway.parse_webhook(body, missing)

    async def test_an_expired_certificate(self, paypal: PayPalRig) -> None:
        await paypal.approved()
        body, headers = paypal.inbox.last("CHECKOUT.ORDER.APPROVED")
        paypal.clock.advance(400 * 24 * 3600)

        with pytest.raises(WebhookSignatureInvalid, match="not valid now"):
            await paypal.gateway.parse_webhook(body, headers)

    async def test_a_signed_body_that_is_not_an_event(self, paypal: PayPalRig) -> None:
        body = b'{"not": "an event"}'

        with pytest.raises(WebhookSignatureInvalid, match="not a readable PayPal event"):
            await paypal.gateway.parse_webhook(body, paypal.fake.sign(body))


class TestCertificateHosts:
    @pytest.mark.parametrize(
        ("url", "allowed"),
        [
            ("https://api.paypal.com/v1/notifications/certs/CERT-1", True),
            ("https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1", True),
            ("http://api.paypal.com/v1/notifications/certs/CERT-1", False),
            ("https://api.paypal.com.evil.example/certs/CERT-1", False),
            ("https://evilpaypal.com/certs/CERT-1", False),
            ("https://api.paypal.com@evil.example/certs/CERT-1", False),
            ("https://user@api.paypal.com/certs/CERT-1", False),
            ("ftp://api.paypal.com/certs/CERT-1", False),
            ("http://localhost:8100/_sandbox/paypal/v1/notifications/certs/CERT-1", True),
            ("http://localhost:9999/v1/notifications/certs/CERT-1", False),
            ("https://localhost:8100/v1/notifications/certs/CERT-1", True),
            ("http://127.0.0.1:18080/certs/CERT-1", True),
            ("http://127.0.0.1:18081/certs/CERT-1", False),
            ("https://127.0.0.1:18080/certs/CERT-1", False),
            ("not a url", False),
            ("https://api.paypal.com:443/v1/notifications/certs/CERT-1", True),
            ("https://api.paypal.com:8443/v1/notifications/certs/CERT-1", False),
            ("https://api.paypal.com:80/v1/notifications/certs/CERT-1", False),
            ("https://api.paypal.com:0/v1/notifications/certs/CERT-1", False),
            ("https://api.sandbox.paypal.com:4443/v1/notifications/certs/CERT-1", False),
            ("http://localhost/_sandbox/paypal/v1/notifications/certs/CERT-1", False),
            ("http://127.0.0.1/certs/CERT-1", False),
        ],
    )
    def test_only_listed_hosts_and_https_for_paypal(self, url: str, allowed: bool) -> None:
        hosts = ["api.paypal.com", "api.sandbox.paypal.com", "localhost:8100", "http://127.0.0.1:18080"]

        assert certificate_url_allowed(url, hosts) is allowed
