"""The REST routes: OAuth token, Orders v2, captures and refunds, webhook certificates and the postback check."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from fakes.paypal.errors import PayPalApiError, not_found, oauth_error
from fakes.paypal.orders import Capture, Order, Refund, money, new_id, parse_money, parse_order
from fakes.paypal.payloads import capture_json, full_order, minimal_order, refund_json
from fakes.paypal.webhooks import AUTH_ALGO, serialize, signed_message

if TYPE_CHECKING:
    from fakes.paypal.fake import Fault, PayPalFake

_MAX_REQUEST_ID = 108


def fake_of(request: Request) -> PayPalFake:
    """The fake whose app is serving `request` (its routes are shared by every fake in the process)."""
    fake: PayPalFake = request.app.state.fake
    return fake


def root_url(request: Request) -> str:
    """The fake's absolute root, including any mount prefix (`root_path`)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def order_resource(fake: PayPalFake, order: Order) -> dict[str, Any]:
    return full_order(order, fake.captures, fake.api_root)


def _fault_response(fault: Fault) -> Response:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    if fault.status == 401:
        return oauth_error(401, fault.issue or "invalid_token", "Injected by the fake.")
    if fault.status == 429:
        issue = fault.issue or "RATE_LIMIT_REACHED"
    elif fault.status >= 500:
        issue = fault.issue or "INTERNAL_SERVICE_ERROR"
    else:
        issue = fault.issue or "UNPROCESSABLE_ENTITY"
    return PayPalApiError(fault.status, issue, "Injected by the fake.").response(headers)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise PayPalApiError(400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.") from exc


def _request_id(request: Request) -> str | None:
    value = request.headers.get("paypal-request-id")
    if value is not None and (not value or len(value) > _MAX_REQUEST_ID):
        raise PayPalApiError(
            400, "INVALID_PARAMETER_SYNTAX", "PayPal-Request-Id is 1 to 108 characters.", location="header"
        )
    return value


def _wants_representation(request: Request) -> bool:
    return "return=representation" in request.headers.get("prefer", "")


router = APIRouter(include_in_schema=False)


def _guard(fake: PayPalFake, request: Request, operation: str) -> tuple[Response | None, Fault | None]:
    """Bearer check and injected faults; an `applied` fault is returned to answer after the work."""
    if fake.fixed_base_url is None:
        fake.api_root = root_url(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not fake.token_valid(token.strip()):
        return oauth_error(401, "invalid_token", "Access Token not found in cache"), None
    fault = fake.take_fault(operation)
    if fault is not None and not fault.applied:
        return _fault_response(fault), None
    return None, fault


def _answer(fault: Fault | None, body: dict[str, Any], status: int) -> Response:
    return _fault_response(fault) if fault is not None else JSONResponse(body, status_code=status)


@router.post("/v1/oauth2/token")
async def token(request: Request) -> Response:
    fake = fake_of(request)
    if fake.fixed_base_url is None:
        fake.api_root = root_url(request)
    fault = fake.take_fault("token")
    if fault is not None:
        return _fault_response(fault)
    if not _client_authenticated(fake, request.headers.get("authorization", "")):
        return oauth_error(401, "invalid_client", "Client Authentication failed")
    form = await request.form()
    if form.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "Grant Type is NULL or not supported")
    access_token, expires_in = fake.issue_token()
    body = {
        "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund",
        "access_token": access_token,
        "token_type": "Bearer",
        "app_id": fake.app_id,
        "expires_in": expires_in,
        "nonce": f"{fake.clock().strftime('%Y-%m-%dT%H:%M:%SZ')}{new_id(length=20)}",
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/v2/checkout/orders")
async def create_order(request: Request) -> Response:
    fake = fake_of(request)
    rejected, fault = _guard(fake, request, "create_order")
    if rejected is not None:
        return rejected
    try:
        request_id = _request_id(request)
        key = ("create", request_id or "")
        if request_id is not None and key in fake.request_ids:
            order = fake.orders[fake.request_ids[key]]
            return _answer(fault, _order_body(fake, order, request), 200)
        order = parse_order(await _json_body(request), new_id("5O"), fake.clock())
    except PayPalApiError as exc:
        return exc.response()
    fake.orders[order.id] = order
    if request_id is not None:
        fake.request_ids[key] = order.id
    return _answer(fault, _order_body(fake, order, request), 201)


@router.get("/v2/checkout/orders/{order_id}")
async def get_order(request: Request, order_id: str) -> Response:
    fake = fake_of(request)
    rejected, fault = _guard(fake, request, "get_order")
    if rejected is not None:
        return rejected
    order = fake.orders.get(order_id)
    if order is None:
        return not_found("order", order_id).response()
    return _answer(fault, full_order(order, fake.captures, root_url(request)), 200)


@router.post("/v2/checkout/orders/{order_id}/capture")
async def capture_order(request: Request, order_id: str) -> Response:
    fake = fake_of(request)
    rejected, fault = _guard(fake, request, "capture_order")
    if rejected is not None:
        return rejected
    try:
        request_id = _request_id(request)
        await _json_body(request)
        order = fake.orders.get(order_id)
        if order is None:
            raise not_found("order", order_id)
        key = (f"capture:{order_id}", request_id or "")
        if request_id is not None and key in fake.request_ids:
            return _answer(fault, full_order(order, fake.captures, root_url(request)), 200)
        _check_capturable(order)
    except PayPalApiError as exc:
        return exc.response()
    if request_id is not None:
        fake.request_ids[key] = order_id
    await _capture(fake, order)
    return _answer(fault, full_order(order, fake.captures, root_url(request)), 201)


@router.get("/v2/payments/captures/{capture_id}")
async def get_capture(request: Request, capture_id: str) -> Response:
    fake = fake_of(request)
    rejected, fault = _guard(fake, request, "get_capture")
    if rejected is not None:
        return rejected
    capture = fake.captures.get(capture_id)
    if capture is None:
        return not_found("capture", capture_id).response()
    return _answer(fault, capture_json(capture, root_url(request), related=True), 200)


@router.post("/v2/payments/captures/{capture_id}/refund")
async def refund_capture(request: Request, capture_id: str) -> Response:
    fake = fake_of(request)
    rejected, fault = _guard(fake, request, "refund_capture")
    if rejected is not None:
        return rejected
    try:
        request_id = _request_id(request)
        body = await _json_body(request)
        capture = fake.captures.get(capture_id)
        if capture is None:
            raise not_found("capture", capture_id)
        key = (f"refund:{capture_id}", request_id or "")
        if request_id is not None and key in fake.request_ids:
            refund = fake.refunds[fake.request_ids[key]]
            return _answer(fault, refund_json(refund, capture, root_url(request)), 200)
        amount = _refund_amount(capture, body)
    except PayPalApiError as exc:
        return exc.response()
    refund = await _refund(fake, capture, amount, body if isinstance(body, dict) else {})
    if request_id is not None:
        fake.request_ids[key] = refund.id
    return _answer(fault, refund_json(refund, capture, root_url(request)), 201)


@router.get("/v2/payments/refunds/{refund_id}")
async def get_refund(request: Request, refund_id: str) -> Response:
    fake = fake_of(request)
    rejected, fault = _guard(fake, request, "get_refund")
    if rejected is not None:
        return rejected
    refund = fake.refunds.get(refund_id)
    if refund is None:
        return not_found("refund", refund_id).response()
    return _answer(fault, refund_json(refund, fake.captures[refund.capture_id], root_url(request)), 200)


@router.get("/v1/notifications/certs/{name}")
async def certificate(request: Request, name: str) -> Response:
    fake = fake_of(request)
    if name != fake.signer.name:
        return not_found("certificate", name).response()
    return PlainTextResponse(fake.certificate_pem.decode(), media_type="application/x-pem-file")


@router.post("/v1/notifications/verify-webhook-signature")
async def verify_webhook_signature(request: Request) -> Response:
    fake = fake_of(request)
    rejected, _ = _guard(fake, request, "verify_webhook_signature")
    if rejected is not None:
        return rejected
    try:
        body = await _json_body(request)
        return JSONResponse({"verification_status": "SUCCESS" if _postback_ok(fake, body) else "FAILURE"})
    except PayPalApiError as exc:
        return exc.response()


def _client_authenticated(fake: PayPalFake, header: str) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return client_id == fake.client_id and secret == fake.client_secret


def _order_body(fake: PayPalFake, order: Order, request: Request) -> dict[str, Any]:
    root = root_url(request)
    return full_order(order, fake.captures, root) if _wants_representation(request) else minimal_order(order, root)


def _check_capturable(order: Order) -> None:
    if order.status == "COMPLETED":
        raise PayPalApiError(422, "ORDER_ALREADY_CAPTURED", "Order already captured. Intent CAPTURE allows one.")
    if order.status == "VOIDED":
        raise PayPalApiError(422, "ORDER_EXPIRED", "The order has expired or was voided and cannot be captured.")
    if order.status != "APPROVED":
        raise PayPalApiError(422, "ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")


async def _capture(fake: PayPalFake, order: Order) -> None:
    now = fake.clock()
    status = "DECLINED" if order.decline_capture else "COMPLETED"
    captures = []
    for unit in order.purchase_units:
        capture = Capture(
            id=new_id("3C"),
            order_id=order.id,
            status=status,
            currency=unit.currency,
            value=unit.value,
            create_time=now,
            update_time=now,
            custom_id=unit.custom_id,
            invoice_id=unit.invoice_id,
        )
        fake.captures[capture.id] = capture
        unit.capture_ids.append(capture.id)
        captures.append(capture)
    order.status = "COMPLETED"
    order.update_time = now
    for capture in captures:
        shown = money(capture.currency, capture.value)["value"]
        if capture.status == "COMPLETED":
            event_type, summary = "PAYMENT.CAPTURE.COMPLETED", f"Payment completed for {capture.currency} {shown}"
        else:
            event_type, summary = "PAYMENT.CAPTURE.DENIED", f"A {capture.currency} {shown} capture was denied"
        await fake.emit(event_type, "capture", summary, capture_json(capture, fake.api_root, related=True))


def _refund_amount(capture: Capture, body: Any) -> Decimal:
    if capture.status == "REFUNDED":
        raise PayPalApiError(422, "CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
    if capture.status not in ("COMPLETED", "PARTIALLY_REFUNDED"):
        raise PayPalApiError(422, "REFUND_NOT_ALLOWED", f"A {capture.status} capture cannot be refunded.")
    remaining = capture.value - capture.refunded
    raw = body.get("amount") if isinstance(body, dict) else None
    if raw is None:
        return remaining
    _, amount = parse_money(raw, "/amount", currency=capture.currency)
    if amount == 0:
        raise PayPalApiError(422, "CANNOT_BE_ZERO_OR_NEGATIVE", "Must be greater than zero.", field="/amount/value")
    if amount > remaining:
        raise PayPalApiError(422, "REFUND_AMOUNT_EXCEEDED", "The refund amount exceeds the capture's remainder.")
    return amount


async def _refund(fake: PayPalFake, capture: Capture, amount: Decimal, body: dict[str, Any]) -> Refund:
    now = fake.clock()
    refund = Refund(
        id=new_id("1R"),
        capture_id=capture.id,
        status="COMPLETED",
        currency=capture.currency,
        value=amount,
        create_time=now,
        custom_id=body.get("custom_id") or capture.custom_id,
        invoice_id=body.get("invoice_id") or capture.invoice_id,
        note_to_payer=body.get("note_to_payer"),
    )
    fake.refunds[refund.id] = refund
    capture.refund_ids.append(refund.id)
    capture.refunded += amount
    capture.status = "REFUNDED" if capture.refunded == capture.value else "PARTIALLY_REFUNDED"
    capture.update_time = now
    shown = money(refund.currency, refund.value)["value"]
    await fake.emit(
        "PAYMENT.CAPTURE.REFUNDED",
        "refund",
        f"A {refund.currency} {shown} {refund.currency} capture payment was refunded",
        refund_json(refund, capture, fake.api_root),
    )
    return refund


def _postback_ok(fake: PayPalFake, body: Any) -> bool:
    """The postback check: the same message rebuilt from the re-serialized `webhook_event`."""
    fields = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id")
    if not isinstance(body, dict):
        raise PayPalApiError(400, "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
    for name in (*fields, "webhook_event"):
        if not body.get(name):
            raise PayPalApiError(400, "MISSING_REQUIRED_PARAMETER", f"{name} is required.", field=f"/{name}")
    if not all(isinstance(body[name], str) for name in fields) or not isinstance(body["webhook_event"], dict):
        raise PayPalApiError(400, "INVALID_PARAMETER_SYNTAX", "Malformed verification request.")
    if body["auth_algo"] != AUTH_ALGO or body["webhook_id"] != fake.webhook_id:
        return False
    if not body["cert_url"].endswith(f"/v1/notifications/certs/{fake.signer.name}"):
        return False
    raw = serialize(body["webhook_event"])
    message = signed_message(body["transmission_id"], body["transmission_time"], body["webhook_id"], raw)
    return fake.signer.verify(message, body["transmission_sig"])
