"""The JSON the fake answers with for orders, captures and refunds (shapes of reference §3.2–§3.5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fakes.paypal.orders import MERCHANT_ID, Capture, Order, PurchaseUnit, Refund, money, paypal_fee, timestamp


def _link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


def approval_url(root: str, order_id: str) -> str:
    return f"{root}/checkoutnow?token={order_id}"


def order_links(order: Order, root: str) -> list[dict[str, str]]:
    self_url = f"{root}/v2/checkout/orders/{order.id}"
    links = [_link(self_url, "self")]
    if order.status in ("CREATED", "PAYER_ACTION_REQUIRED"):
        links.append(_link(approval_url(root, order.id), order.approval_rel))
    if order.status == "CREATED":
        links.append(_link(self_url, "update", "PATCH"))
    if order.status in ("CREATED", "APPROVED"):
        links.append(_link(f"{self_url}/capture", "capture", "POST"))
    return links


def _payment_source(order: Order) -> dict[str, Any]:
    if order.payer is None:
        return {"paypal": {}}
    payer = order.payer
    return {
        "paypal": {
            "email_address": payer["email_address"],
            "account_id": payer["payer_id"],
            "account_status": "VERIFIED",
            "name": payer["name"],
            "address": payer["address"],
        }
    }


def minimal_order(order: Order, root: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": order.id, "status": order.status}
    if order.paypal_source:
        body["payment_source"] = _payment_source(order)
    body["links"] = order_links(order, root)
    return body


def _unit(unit: PurchaseUnit, captures: dict[str, Capture], root: str) -> dict[str, Any]:
    amount: dict[str, Any] = money(unit.currency, unit.value)
    if unit.breakdown:
        amount["breakdown"] = {name: money(unit.currency, value) for name, value in unit.breakdown.items()}
    body: dict[str, Any] = {
        "reference_id": unit.reference_id,
        "amount": amount,
        "payee": {"email_address": "merchant@carpulse.example", "merchant_id": MERCHANT_ID},
    }
    for name in ("description", "custom_id", "invoice_id", "soft_descriptor"):
        value = getattr(unit, name)
        if value is not None:
            body[name] = value
    if unit.items:
        body["items"] = unit.items
    if unit.capture_ids:
        body["payments"] = {"captures": [capture_json(captures[ident], root) for ident in unit.capture_ids]}
    return body


def full_order(order: Order, captures: dict[str, Capture], root: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": order.id,
        "intent": order.intent,
        "status": order.status,
        "payment_source": _payment_source(order),
        "purchase_units": [_unit(unit, captures, root) for unit in order.purchase_units],
        "create_time": timestamp(order.create_time),
    }
    if order.update_time != order.create_time:
        body["update_time"] = timestamp(order.update_time)
    if order.payer is not None:
        body["payer"] = {
            "name": order.payer["name"],
            "email_address": order.payer["email_address"],
            "payer_id": order.payer["payer_id"],
            "address": order.payer["address"],
        }
    body["links"] = order_links(order, root)
    return body


def capture_json(capture: Capture, root: str, *, related: bool = False) -> dict[str, Any]:
    url = f"{root}/v2/payments/captures/{capture.id}"
    fee = paypal_fee(capture.currency, capture.value)
    body: dict[str, Any] = {
        "id": capture.id,
        "status": capture.status,
        "amount": money(capture.currency, capture.value),
        "final_capture": True,
        "seller_protection": {
            "status": "ELIGIBLE",
            "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
        },
    }
    if capture.status == "DECLINED":
        body["status_details"] = {"reason": "DECLINED_BY_RISK_FRAUD_FILTERS"}
    else:
        body["seller_receivable_breakdown"] = {
            "gross_amount": money(capture.currency, capture.value),
            "paypal_fee": money(capture.currency, fee),
            "net_amount": money(capture.currency, capture.value - fee),
        }
    if capture.custom_id is not None:
        body["custom_id"] = capture.custom_id
    if capture.invoice_id is not None:
        body["invoice_id"] = capture.invoice_id
    if related:
        body["supplementary_data"] = {"related_ids": {"order_id": capture.order_id}}
    body |= {
        "create_time": timestamp(capture.create_time),
        "update_time": timestamp(capture.update_time),
        "links": [
            _link(url, "self"),
            _link(f"{url}/refund", "refund", "POST"),
            _link(f"{root}/v2/checkout/orders/{capture.order_id}", "up"),
        ],
    }
    return body


def refund_json(refund: Refund, capture: Capture, root: str) -> dict[str, Any]:
    fee = paypal_fee(refund.currency, refund.value) if refund.value == capture.value else Decimal(0)
    body: dict[str, Any] = {
        "id": refund.id,
        "amount": money(refund.currency, refund.value),
        "status": refund.status,
        "seller_payable_breakdown": {
            "gross_amount": money(refund.currency, refund.value),
            "paypal_fee": money(refund.currency, fee),
            "net_amount": money(refund.currency, refund.value - fee),
            "total_refunded_amount": money(capture.currency, capture.refunded),
        },
    }
    for name in ("invoice_id", "custom_id", "note_to_payer"):
        value = getattr(refund, name)
        if value is not None:
            body[name] = value
    body |= {
        "create_time": timestamp(refund.create_time),
        "update_time": timestamp(refund.create_time),
        "links": [
            _link(f"{root}/v2/payments/refunds/{refund.id}", "self"),
            _link(f"{root}/v2/payments/captures/{capture.id}", "up"),
        ],
    }
    return body
