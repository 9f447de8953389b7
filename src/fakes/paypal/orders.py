"""Orders, captures and refunds of the fake, the request checks PayPal makes (reference §3.2) and their JSON."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from fakes.paypal.errors import PayPalApiError

ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})
_ALPHABET = string.ascii_uppercase + string.digits
_VALUE = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")  # the spec's Money.value pattern
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_LOCALE = re.compile(r"^[a-z]{2}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?$")
_BREAKDOWN_PLUS = ("item_total", "tax_total", "shipping", "handling", "insurance")
_BREAKDOWN_MINUS = ("shipping_discount", "discount")
_MAX_LENGTHS = {"reference_id": 256, "custom_id": 127, "invoice_id": 127, "description": 127, "soft_descriptor": 22}
MERCHANT_ID = "CPFAKEMERCHANT"


def new_id(prefix: str = "", length: int = 17) -> str:
    """PayPal-shaped ids: upper-case alphanumerics, 17 long for orders, captures and refunds."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length - len(prefix)))


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def places(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def money(currency: str, value: Decimal) -> dict[str, str]:
    exponent = Decimal(1).scaleb(-places(currency))
    return {"currency_code": currency, "value": str(value.quantize(exponent, rounding=ROUND_HALF_UP))}


def _invalid(field_path: str, issue: str, description: str, status: int = 400) -> PayPalApiError:
    return PayPalApiError(status, issue, description, field=field_path)


def parse_money(raw: Any, path: str, *, currency: str | None = None) -> tuple[str, Decimal]:
    """A `{currency_code, value}` object → (currency, exact Decimal), with PayPal's issue names."""
    if not isinstance(raw, dict):
        raise _invalid(path, "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.")
    code, value = raw.get("currency_code"), raw.get("value")
    if not isinstance(code, str) or not _CURRENCY.match(code):
        raise _invalid(f"{path}/currency_code", "INVALID_PARAMETER_SYNTAX", "The currency code is malformed.")
    if currency is not None and code != currency:
        raise _invalid(
            f"{path}/currency_code", "CURRENCY_MISMATCH", "Currency code should be the same in all amounts.", 422
        )
    if not isinstance(value, str) or len(value) > 32 or not _VALUE.match(value):
        raise _invalid(f"{path}/value", "INVALID_PARAMETER_SYNTAX", "The value must be a decimal string.")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes these
        raise _invalid(f"{path}/value", "INVALID_PARAMETER_SYNTAX", "The value must be a decimal string.") from exc
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places(code):
        raise _invalid(
            f"{path}/value", "DECIMAL_PRECISION", f"{code} supports {places(code)} decimal places at most.", 422
        )
    if amount < 0:
        raise _invalid(f"{path}/value", "CANNOT_BE_NEGATIVE", "Must be greater than or equal to 0.", 422)
    return code, amount


@dataclass
class PurchaseUnit:
    reference_id: str
    currency: str
    value: Decimal
    breakdown: dict[str, Decimal]
    items: list[dict[str, Any]]
    custom_id: str | None = None
    invoice_id: str | None = None
    description: str | None = None
    soft_descriptor: str | None = None
    capture_ids: list[str] = field(default_factory=list)


@dataclass
class Order:
    id: str
    intent: str
    status: str  # CREATED, PAYER_ACTION_REQUIRED, APPROVED, VOIDED, COMPLETED
    purchase_units: list[PurchaseUnit]
    create_time: datetime
    update_time: datetime
    experience: dict[str, Any]
    paypal_source: bool  # approval set through payment_source.paypal (→ `payer-action`) or legacy (→ `approve`)
    return_url: str | None = None
    cancel_url: str | None = None
    payer: dict[str, Any] | None = None
    decline_capture: bool = False  # set by the approval page's `decline` outcome

    @property
    def approval_rel(self) -> str:
        return "payer-action" if self.paypal_source else "approve"


@dataclass
class Capture:
    id: str
    order_id: str
    status: str  # COMPLETED, DECLINED, PARTIALLY_REFUNDED, REFUNDED, PENDING, FAILED
    currency: str
    value: Decimal
    create_time: datetime
    update_time: datetime
    custom_id: str | None = None
    invoice_id: str | None = None
    refunded: Decimal = Decimal(0)
    refund_ids: list[str] = field(default_factory=list)


@dataclass
class Refund:
    id: str
    capture_id: str
    status: str
    currency: str
    value: Decimal
    create_time: datetime
    custom_id: str | None = None
    invoice_id: str | None = None
    note_to_payer: str | None = None


def _text(unit: dict[str, Any], name: str, path: str) -> str | None:
    value = unit.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"{path}/{name}", "INVALID_PARAMETER_SYNTAX", f"{name} must be a string.")
    if len(value) > _MAX_LENGTHS[name]:
        raise _invalid(f"{path}/{name}", "INVALID_STRING_MAX_LENGTH", f"{name} is too long.")
    return value


def _parse_items(raw: Any, path: str, currency: str) -> tuple[list[dict[str, Any]], Decimal, Decimal | None]:
    if raw is None:
        return [], Decimal(0), None
    if not isinstance(raw, list):
        raise _invalid(path, "INVALID_PARAMETER_SYNTAX", "items must be an array.")
    items, total, tax_total = [], Decimal(0), None
    for index, item in enumerate(raw):
        where = f"{path}/{index}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _invalid(f"{where}/name", "MISSING_REQUIRED_PARAMETER", "An item needs a name.")
        quantity = item.get("quantity")
        if not isinstance(quantity, str) or not quantity.isdigit() or int(quantity) < 1:
            raise _invalid(f"{where}/quantity", "INVALID_PARAMETER_SYNTAX", "quantity is a positive integer string.")
        _, unit_amount = parse_money(item.get("unit_amount"), f"{where}/unit_amount", currency=currency)
        total += unit_amount * int(quantity)
        if item.get("tax") is not None:
            _, tax = parse_money(item["tax"], f"{where}/tax", currency=currency)
            tax_total = (tax_total or Decimal(0)) + tax * int(quantity)
        items.append(item)
    return items, total, tax_total


def parse_purchase_unit(raw: Any, index: int) -> PurchaseUnit:
    path = f"/purchase_units/{index}"
    if not isinstance(raw, dict):
        raise _invalid(path, "INVALID_PARAMETER_SYNTAX", "A purchase unit must be an object.")
    currency, value = parse_money(raw.get("amount"), f"{path}/amount")
    if value == 0:
        raise _invalid(f"{path}/amount/value", "CANNOT_BE_ZERO_OR_NEGATIVE", "Must be greater than zero.", 422)
    breakdown: dict[str, Decimal] = {}
    raw_breakdown = raw["amount"].get("breakdown")
    if raw_breakdown is not None:
        if not isinstance(raw_breakdown, dict):
            raise _invalid(f"{path}/amount/breakdown", "INVALID_PARAMETER_SYNTAX", "breakdown must be an object.")
        for name in (*_BREAKDOWN_PLUS, *_BREAKDOWN_MINUS):
            if raw_breakdown.get(name) is not None:
                where = f"{path}/amount/breakdown/{name}"
                breakdown[name] = parse_money(raw_breakdown[name], where, currency=currency)[1]
        expected = sum((breakdown.get(n, Decimal(0)) for n in _BREAKDOWN_PLUS), Decimal(0)) - sum(
            (breakdown.get(n, Decimal(0)) for n in _BREAKDOWN_MINUS), Decimal(0)
        )
        if expected != value:
            raise _invalid(
                f"{path}/amount/value",
                "AMOUNT_MISMATCH",
                "Should equal item_total + tax_total + shipping + handling + insurance - shipping_discount - discount.",
                422,
            )
    items, item_total, item_tax = _parse_items(raw.get("items"), f"{path}/items", currency)
    if items and "item_total" not in breakdown:
        raise _invalid(f"{path}/amount/breakdown/item_total", "ITEM_TOTAL_REQUIRED", "item_total is required.", 422)
    if items and breakdown["item_total"] != item_total:
        raise _invalid(
            f"{path}/amount/breakdown/item_total",
            "ITEM_TOTAL_MISMATCH",
            "Should equal sum of (unit_amount * quantity) across all items.",
            422,
        )
    if item_tax is not None and "tax_total" not in breakdown:
        raise _invalid(f"{path}/amount/breakdown/tax_total", "TAX_TOTAL_REQUIRED", "tax_total is required.", 422)
    if item_tax is not None and breakdown["tax_total"] != item_tax:
        raise _invalid(
            f"{path}/amount/breakdown/tax_total",
            "TAX_TOTAL_MISMATCH",
            "Should equal sum of (tax * quantity) across all items.",
            422,
        )
    return PurchaseUnit(
        reference_id=_text(raw, "reference_id", path) or "default",
        currency=currency,
        value=value,
        breakdown=breakdown,
        items=items,
        custom_id=_text(raw, "custom_id", path),
        invoice_id=_text(raw, "invoice_id", path),
        description=_text(raw, "description", path),
        soft_descriptor=_text(raw, "soft_descriptor", path),
    )


def _experience(body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The approval settings and whether they came through `payment_source.paypal` (the current way)."""
    source = body.get("payment_source")
    if source is not None:
        if not isinstance(source, dict) or set(source) - {"paypal"}:
            raise _invalid("/payment_source", "PAYMENT_SOURCE_NOT_SUPPORTED", "Only paypal is supported here.", 422)
        paypal = source.get("paypal") or {}
        context = paypal.get("experience_context") if isinstance(paypal, dict) else None
        if context is not None and not isinstance(context, dict):
            raise _invalid("/payment_source/paypal/experience_context", "INVALID_PARAMETER_SYNTAX", "Not an object.")
        return dict(context or {}), True
    legacy = body.get("application_context")
    if legacy is not None and not isinstance(legacy, dict):
        raise _invalid("/application_context", "INVALID_PARAMETER_SYNTAX", "Not an object.")
    return dict(legacy or {}), False


def parse_order(body: Any, order_id: str, now: datetime) -> Order:
    if not isinstance(body, dict):
        raise _invalid("/", "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
    intent = body.get("intent")
    if intent not in ("CAPTURE", "AUTHORIZE"):
        raise _invalid("/intent", "INVALID_PARAMETER_VALUE", "intent must be CAPTURE or AUTHORIZE.")
    if intent == "AUTHORIZE":
        raise _invalid("/intent", "INTENT_NOT_SUPPORTED", "The fake supports intent CAPTURE only.", 422)
    units = body.get("purchase_units")
    if not isinstance(units, list) or not units:
        raise _invalid("/purchase_units", "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.")
    if len(units) > 10:
        raise _invalid("/purchase_units", "INVALID_ARRAY_MAX_ITEMS", "At most 10 purchase units.")
    parsed = [parse_purchase_unit(unit, index) for index, unit in enumerate(units)]
    references = [unit.reference_id for unit in parsed]
    if len(parsed) > 1 and len(set(references)) != len(references):
        raise _invalid("/purchase_units", "DUPLICATE_REFERENCE_ID", "reference_id must be unique.", 422)
    experience, paypal_source = _experience(body)
    locale = experience.get("locale")
    if locale is not None and (not isinstance(locale, str) or not _LOCALE.match(locale)):
        raise _invalid("/payment_source/paypal/experience_context/locale", "INVALID_PARAMETER_SYNTAX", "Bad locale.")
    return Order(
        id=order_id,
        intent=intent,
        status="PAYER_ACTION_REQUIRED" if paypal_source else "CREATED",
        purchase_units=parsed,
        create_time=now,
        update_time=now,
        experience=experience,
        paypal_source=paypal_source,
        return_url=_url(experience.get("return_url")),
        cancel_url=_url(experience.get("cancel_url")),
    )


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def paypal_fee(currency: str, gross: Decimal) -> Decimal:
    """A plausible PayPal fee (3.49 % + 0.35), never more than the payment itself."""
    exponent = Decimal(1).scaleb(-places(currency))
    fee = (gross * Decimal("0.0349") + Decimal("0.35")).quantize(exponent, rounding=ROUND_HALF_UP)
    return min(fee, gross)
