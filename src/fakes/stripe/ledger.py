"""The fake's state: Checkout Sessions, PaymentIntents, Charges, Refunds, Events, and their transitions.

Objects are kept as the JSON Stripe would send (reference §2.4, §2.5, §2.8); every transition
returns the events it caused, as snapshots (`data.object` is the object at that moment, §2.11).
"""

from __future__ import annotations

import copy
import secrets
import string
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, NamedTuple

from fakes.stripe import form
from fakes.stripe.errors import StripeApiError, resource_missing

API_VERSION = "2026-10-28.endive"  # what stripe 16.1.0 pins (reference §0)
# The account's dynamic payment methods (Dashboard toggles); Apple Pay and Google Pay ride on `card` (§2.7).
ENABLED_PAYMENT_METHODS = ("card", "mobilepay")
MOBILEPAY_CURRENCIES = frozenset({"eur", "dkk", "nok", "sek"})
# What the customer picks on the hosted page → the payment-method type it is charged as.
HOSTED_METHODS: dict[str, str] = {"card": "card", "google_pay": "card", "apple_pay": "card", "mobilepay": "mobilepay"}
# The toggles of a payment method configuration (`pmc_…`, Dashboard → Payment methods) the fake models.
CONFIGURABLE_METHODS = tuple(HOSTED_METHODS)
CHECKOUT_LOCALES = frozenset(
    {
        *("auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr", "fr-CA"),
        *("hi-IN", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "pt-BR"),
        *("ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW"),
    }
)
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd"}
)
MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60
DEFAULT_EXPIRY_SECONDS = MAX_EXPIRY_SECONDS
MIN_AMOUNT = 50  # about 0.50 EUR (§2.1)
MAX_AMOUNT = 99_999_999  # 8 digits
SANDBOX_CUSTOMER: dict[str, Any] = {
    "email": "sandbox.customer@example.com",
    "name": "Sandbox Customer",
    "phone": None,
    "address": {"city": None, "country": "FI", "line1": None, "line2": None, "postal_code": None, "state": None},
    "tax_exempt": "none",
    "tax_ids": [],
}

Outcome = Literal["pay", "decline", "abandon"]
OUTCOMES: tuple[Outcome, ...] = ("pay", "decline", "abandon")
JSON = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class Origin(NamedTuple):
    """The API request that caused an event (`event.request`); hosted-page actions have none."""

    request_id: str | None = None
    idempotency_key: str | None = None


def _card(brand: str = "visa", last4: str = "4242") -> JSON:
    return {"brand": brand, "country": "FI", "exp_month": 12, "exp_year": 2034, "funding": "credit", "last4": last4}


def _toggle(on: bool) -> JSON:
    value = "on" if on else "off"
    return {"available": True, "display_preference": {"overridable": None, "preference": value, "value": value}}


def payment_method_configuration(configuration_id: str, name: str, enabled: set[str]) -> JSON:
    """A `payment_method_configuration` object with `enabled` of the modelled methods on."""
    configuration: JSON = {
        "id": configuration_id,
        "object": "payment_method_configuration",
        "active": True,
        "application": None,
        "is_default": False,
        "livemode": False,
        "name": name,
        "parent": None,
    }
    configuration.update({method: _toggle(method in enabled) for method in CONFIGURABLE_METHODS})
    return configuration


def _is_on(configuration: JSON, method: str) -> bool:
    return bool(configuration.get(method, {}).get("display_preference", {}).get("value") == "on")


def payment_method_details(method: str) -> JSON:
    """What the charge records for a hosted-page choice (reference §2.7: wallets are `card` + `wallet.type`)."""
    if method == "mobilepay":
        return {"type": "mobilepay", "mobilepay": {"card": _card("visa", "1234")}}
    card = _card()
    if method in ("google_pay", "apple_pay"):
        card["wallet"] = {"type": method, method: {}, "dynamic_last4": "0005"}
    else:
        card["wallet"] = None
    return {"type": "card", "card": card}


class Ledger:
    """All objects the fake knows, by id, plus the event log."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.sessions: dict[str, JSON] = {}
        self.line_items: dict[str, list[JSON]] = {}
        self.payment_intents: dict[str, JSON] = {}
        self.charges: dict[str, JSON] = {}
        self.refunds: dict[str, JSON] = {}
        self.events: dict[str, JSON] = {}
        # Not part of Stripe's session JSON: what Checkout copies onto the PaymentIntent it creates.
        self.intent_data: dict[str, JSON] = {}
        # Payment method configurations outlive `clear()`: they are the account's Dashboard settings.
        self.configurations: dict[str, JSON] = {}

    def now(self) -> int:
        return int(self.clock().timestamp())

    def clear(self) -> None:
        tables: tuple[dict[str, Any], ...] = (
            self.sessions,
            self.line_items,
            self.payment_intents,
            self.charges,
            self.refunds,
            self.events,
            self.intent_data,
        )
        for table in tables:
            table.clear()

    # -- lookups ---------------------------------------------------------------------------------

    def find(self, object_id: str) -> JSON | None:
        for prefix, table in (
            ("cs_", self.sessions),
            ("pi_", self.payment_intents),
            ("ch_", self.charges),
            ("re_", self.refunds),
            ("evt_", self.events),
        ):
            if object_id.startswith(prefix):
                return table.get(object_id)
        return None

    def session(self, session_id: str) -> JSON:
        session = self.sessions.get(session_id)
        if session is None:
            raise resource_missing("checkout.session", session_id)
        return session

    def payment_intent(self, intent_id: str) -> JSON:
        intent = self.payment_intents.get(intent_id)
        if intent is None:
            raise resource_missing("payment_intent", intent_id)
        return intent

    def configuration(self, configuration_id: str) -> JSON:
        configuration = self.configurations.get(configuration_id)
        if configuration is None:
            raise resource_missing("payment_method_configuration", configuration_id)
        return configuration

    def create_configuration(self, params: JSON, configuration_id: str | None = None) -> JSON:
        """`POST /v1/payment_method_configurations`: `<method>[display_preference][preference]=on|off`."""
        enabled: set[str] = set()
        for method in CONFIGURABLE_METHODS:
            preference = form.mapping(form.mapping(params, method), "display_preference")
            value = form.text(preference, "preference") or "off"
            if value not in ("on", "off", "none"):
                param = f"{method}[display_preference][preference]"
                raise StripeApiError(400, f"Invalid {param}: must be one of on, off, or none", param=param)
            if value == "on":
                enabled.add(method)
        configuration_id = configuration_id or new_id("pmc_1")
        name = form.text(params, "name") or "Configuration"
        configuration = payment_method_configuration(configuration_id, name, enabled)
        self.configurations[configuration_id] = configuration
        return configuration

    def offered_methods(self, session: JSON) -> list[str]:
        """What the hosted page lets the customer pick: the session's types, narrowed by its configuration."""
        details = session.get("payment_method_configuration_details") or {}
        configuration = self.configurations.get(str(details.get("id") or ""))
        return [
            method
            for method, kind in HOSTED_METHODS.items()
            if kind in session["payment_method_types"] and (configuration is None or _is_on(configuration, method))
        ]

    def event(self, event_id: str) -> JSON:
        event = self.events.get(event_id)
        if event is None:
            raise resource_missing("event", event_id)
        return event

    def list_of_line_items(self, session_id: str) -> JSON:
        self.session(session_id)
        return {
            "object": "list",
            "data": copy.deepcopy(self.line_items.get(session_id, [])),
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session_id}/line_items",
        }

    def expand(self, obj: JSON, paths: list[str]) -> JSON:
        """A copy of `obj` with the ids named by `expand[]` paths (`payment_intent.latest_charge`) as objects."""
        result = copy.deepcopy(obj)
        for path in paths:
            self._expand_path(result, path.split("."), path)
        return result

    def _expand_path(self, node: JSON, parts: list[str], path: str) -> None:
        field, rest = parts[0], parts[1:]
        if field == "line_items" and node.get("object") == "checkout.session":
            node["line_items"] = self.list_of_line_items(str(node["id"]))
            return
        if field not in node:
            raise StripeApiError(400, f"This property cannot be expanded ({path}).", param="expand")
        value = node[field]
        if isinstance(value, str):
            target = self.find(value)
            if target is None:
                raise StripeApiError(400, f"This property cannot be expanded ({path}).", param="expand")
            value = node[field] = copy.deepcopy(target)
        if rest and isinstance(value, dict):
            self._expand_path(value, rest, path)

    # -- events ----------------------------------------------------------------------------------

    def _event(self, kind: str, obj: JSON, origin: Origin | None) -> JSON:
        origin = origin or Origin()
        event: JSON = {
            "id": new_id("evt_1"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": origin.request_id, "idempotency_key": origin.idempotency_key},
            "type": kind,
        }
        self.events[event["id"]] = event
        return event

    # -- Checkout Sessions -----------------------------------------------------------------------

    def create_session(self, params: JSON, hosted_base: str) -> JSON:
        if "payment_method_types" in params:
            # Endive removed the writable parameter (reference §0 item 1).
            raise StripeApiError(
                400,
                "The `payment_method_types` parameter is no longer supported on this API version. Use dynamic "
                "payment methods, `allowed_payment_method_types` or `excluded_payment_method_types` instead.",
                code="payment_method_types_no_longer_supported",
                param="payment_method_types",
            )
        mode = form.text(params, "mode", required=True)
        if mode != "payment":
            raise StripeApiError(400, f"The fake supports mode=payment only, not {mode!r}.", param="mode")
        ui_mode = form.text(params, "ui_mode") or "hosted_page"
        if ui_mode != "hosted_page":
            raise StripeApiError(400, f"The fake serves ui_mode=hosted_page only, not {ui_mode!r}.", param="ui_mode")
        success_url = form.text(params, "success_url", required=True)
        cancel_url = form.text(params, "cancel_url")
        for name, url in (("success_url", success_url), ("cancel_url", cancel_url)):
            if url is not None and not url.startswith(("http://", "https://")):
                raise StripeApiError(400, f"Not a valid URL: {name}.", param=name, code="url_invalid")
        currency, items = self._line_items(params)
        amount = sum(int(item["amount_total"]) for item in items)
        if amount < MIN_AMOUNT:
            raise StripeApiError(
                400,
                "The Checkout Session's total amount due must add up to at least €0.50 eur",
                code="amount_too_small",
            )
        if amount > MAX_AMOUNT:
            raise StripeApiError(400, "Amount must be no more than 8 digits.", code="amount_too_large")
        created = self.now()
        expires_at = form.integer(params, "expires_at")
        if expires_at is None:
            expires_at = created + DEFAULT_EXPIRY_SECONDS
        elif not MIN_EXPIRY_SECONDS <= expires_at - created <= MAX_EXPIRY_SECONDS:
            raise StripeApiError(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
                param="expires_at",
            )
        locale = form.text(params, "locale")
        if locale is not None and locale not in CHECKOUT_LOCALES:
            raise StripeApiError(400, f"Invalid locale: {locale}", param="locale")
        client_reference_id = form.text(params, "client_reference_id")
        if client_reference_id is not None and len(client_reference_id) > 200:
            raise StripeApiError(400, "client_reference_id is longer than 200 characters.", param="client_reference_id")
        intent_data = form.mapping(params, "payment_intent_data")
        configuration_id = form.text(params, "payment_method_configuration")
        configuration = self.configurations.get(configuration_id) if configuration_id is not None else None
        if configuration_id is not None and configuration is None:
            raise resource_missing(
                "payment_method_configuration", configuration_id, param="payment_method_configuration"
            )
        session_id = new_id("cs_test_a1", 56)
        session: JSON = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "cancel_url": cancel_url,
            "client_reference_id": client_reference_id,
            "client_secret": None,
            "created": created,
            "currency": currency,
            "customer": None,
            "customer_details": None,
            "customer_email": form.text(params, "customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "locale": locale,
            "metadata": form.metadata(params),
            "mode": "payment",
            "payment_intent": None,
            "payment_method_configuration_details": {"id": configuration_id, "parent": None}
            if configuration_id
            else None,
            "payment_method_types": self._payment_method_types(params, currency, configuration),
            "payment_status": "unpaid",
            "status": "open",
            "success_url": success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page",
            "url": f"{hosted_base}/checkout/{session_id}",
        }
        self.intent_data[session_id] = {
            "metadata": form.metadata(intent_data, param="payment_intent_data[metadata]"),
            "description": form.text(intent_data, "description"),
            "receipt_email": form.text(intent_data, "receipt_email"),
        }
        self.sessions[session_id] = session
        self.line_items[session_id] = items
        return session

    def _line_items(self, params: JSON) -> tuple[str, list[JSON]]:
        raw_items = form.sequence(params, "line_items")
        if not raw_items:
            raise StripeApiError(400, "Missing required param: line_items.", param="line_items")
        if len(raw_items) > 100:
            raise StripeApiError(400, "At most 100 line items are allowed.", param="line_items")
        currencies: set[str] = set()
        items: list[JSON] = []
        for index, raw in enumerate(raw_items):
            where = f"line_items[{index}]"
            if not isinstance(raw, dict):
                raise StripeApiError(400, f"Invalid object: {where}.", param=where)
            if "price" in raw:
                raise resource_missing("price", str(raw["price"]), param=f"{where}[price]")
            price_data = form.mapping(raw, "price_data", param=f"{where}[price_data]")
            if not price_data:
                raise StripeApiError(400, f"Missing required param: {where}[price_data].", param=f"{where}[price_data]")
            quantity = form.integer(raw, "quantity", required=True, param=f"{where}[quantity]") or 0
            currency = (
                form.text(price_data, "currency", required=True, param=f"{where}[price_data][currency]") or ""
            ).lower()
            unit_amount = form.integer(
                price_data, "unit_amount", required=True, param=f"{where}[price_data][unit_amount]"
            )
            product = form.mapping(price_data, "product_data", param=f"{where}[price_data][product_data]")
            name = form.text(product, "name", required=True, param=f"{where}[price_data][product_data][name]")
            tax_behavior = form.text(price_data, "tax_behavior") or "unspecified"
            if tax_behavior not in ("inclusive", "exclusive", "unspecified"):
                raise StripeApiError(
                    400, f"Invalid tax_behavior: {tax_behavior}", param=f"{where}[price_data][tax_behavior]"
                )
            if quantity < 1 or unit_amount is None or unit_amount < 0:
                raise StripeApiError(400, f"Invalid quantity or unit_amount in {where}.", param=where)
            currencies.add(currency)
            total = unit_amount * quantity
            items.append(
                {
                    "id": new_id("li_1"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": total,
                    "amount_tax": 0,
                    "amount_total": total,
                    "currency": currency,
                    "description": name,
                    "price": {
                        "id": new_id("price_1"),
                        "object": "price",
                        "active": False,
                        "currency": currency,
                        "product": new_id("prod_", 14),
                        "tax_behavior": tax_behavior,
                        "type": "one_time",
                        "unit_amount": unit_amount,
                    },
                    "quantity": quantity,
                }
            )
        if len(currencies) != 1:
            raise StripeApiError(400, "All line items must use the same currency.", param="line_items")
        return currencies.pop(), items

    @staticmethod
    def _payment_method_types(params: JSON, currency: str, configuration: JSON | None = None) -> list[str]:
        allowed = [str(item) for item in form.sequence(params, "allowed_payment_method_types")]
        excluded = [str(item) for item in form.sequence(params, "excluded_payment_method_types")]
        if allowed and excluded:
            raise StripeApiError(
                400,
                "`allowed_payment_method_types` cannot be combined with `excluded_payment_method_types`.",
                param="allowed_payment_method_types",
            )
        types = [
            kind
            for kind in ENABLED_PAYMENT_METHODS
            if (not allowed or kind in allowed)
            and kind not in excluded
            and (kind != "mobilepay" or currency in MOBILEPAY_CURRENCIES)
            # A configuration turns a type on when any method riding on it is on (wallets ride on `card`).
            and (
                configuration is None
                or any(_is_on(configuration, method) for method, of in HOSTED_METHODS.items() if of == kind)
            )
        ]
        if not types:
            raise StripeApiError(400, "No valid payment method types for this Checkout Session.", param="line_items")
        return types

    def expire_due(self, session: JSON) -> list[JSON]:
        """Expire an open session whose `expires_at` has passed (Stripe does this on its own)."""
        if session["status"] == "open" and self.now() >= int(session["expires_at"]):
            return self._expire(session, None)
        return []

    def touch(self, session_id: str) -> list[JSON]:
        """Bring a session up to the clock (expiring it when due); the events that caused."""
        return self.expire_due(self.session(session_id))

    def expire_session(self, session_id: str, origin: Origin | None = None) -> tuple[JSON, list[JSON]]:
        session = self.session(session_id)
        if session["status"] != "open":
            raise StripeApiError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{session["status"]}".',
            )
        return session, self._expire(session, origin)

    def _expire(self, session: JSON, origin: Origin | None) -> list[JSON]:
        session.update(status="expired", url=None)
        events = [self._event("checkout.session.expired", session, origin)]
        intent = self.payment_intents.get(str(session["payment_intent"] or ""))
        if intent is not None and intent["status"] != "succeeded":
            intent.update(status="canceled", canceled_at=self.now(), cancellation_reason="automatic")
            events.append(self._event("payment_intent.canceled", intent, origin))
        return events

    def settle(self, session_id: str, outcome: Outcome, method: str = "card") -> list[JSON]:
        """The customer's action on the hosted page."""
        session = self.session(session_id)
        if session["status"] != "open":
            raise StripeApiError(400, f"This Checkout Session is {session['status']}; it can no longer be paid.")
        if outcome == "abandon":
            return self._expire(session, None)
        kind = HOSTED_METHODS.get(method)
        if kind is None or method not in self.offered_methods(session):
            raise StripeApiError(400, f"The payment method {method!r} is not available for this Checkout Session.")
        intent = self._intent_for(session)
        charge = self._charge(intent, method, succeeded=outcome == "pay")
        intent.update(latest_charge=charge["id"], payment_method=charge["payment_method"])
        if outcome == "decline":
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": "Your card was declined.",
                    "charge": charge["id"],
                    "payment_method": {"id": charge["payment_method"], "object": "payment_method", "type": kind},
                    "payment_method_type": kind,
                },
            )
            return [self._event("payment_intent.payment_failed", intent, None)]
        intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
        session.update(
            status="complete",
            payment_status="paid",
            url=None,
            customer_details=copy.deepcopy(SANDBOX_CUSTOMER),
        )
        return [
            self._event("checkout.session.completed", session, None),
            self._event("payment_intent.succeeded", intent, None),
        ]

    def _intent_for(self, session: JSON) -> JSON:
        """Checkout creates the PaymentIntent lazily, at the first attempt (reference §2.3)."""
        existing = session["payment_intent"]
        if existing is not None:
            return self.payment_intents[str(existing)]
        data = self.intent_data.get(str(session["id"]), {})
        intent_id = new_id("pi_3")
        intent: JSON = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_capturable": 0,
            "amount_received": 0,
            "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{new_id('', 25)}",
            "confirmation_method": "automatic",
            "created": self.now(),
            "currency": session["currency"],
            "customer": None,
            "description": data.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(data.get("metadata") or {}),
            "next_action": None,
            "payment_method": None,
            "payment_method_types": list(session["payment_method_types"]),
            "receipt_email": data.get("receipt_email"),
            "status": "requires_payment_method",
        }
        self.payment_intents[intent_id] = intent
        session["payment_intent"] = intent_id
        return intent

    def _charge(self, intent: JSON, method: str, *, succeeded: bool) -> JSON:
        charge: JSON = {
            "id": new_id("ch_3"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if succeeded else 0,
            "amount_refunded": 0,
            "balance_transaction": new_id("txn_3") if succeeded else None,
            "captured": succeeded,
            "created": self.now(),
            "currency": intent["currency"],
            "description": intent["description"],
            "failure_code": None if succeeded else "card_declined",
            "failure_message": None if succeeded else "Your card was declined.",
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "outcome": {
                "network_status": "approved_by_network" if succeeded else "declined_by_network",
                "reason": None if succeeded else "generic_decline",
                "risk_level": "normal",
                "seller_message": "Payment complete." if succeeded else "The bank did not return any further details.",
                "type": "authorized" if succeeded else "issuer_declined",
            },
            "paid": succeeded,
            "payment_intent": intent["id"],
            "payment_method": new_id("pm_1"),
            "payment_method_details": payment_method_details(method),
            "receipt_url": None,
            "refunded": False,
            "status": "succeeded" if succeeded else "failed",
        }
        self.charges[charge["id"]] = charge
        return charge

    # -- Refunds ---------------------------------------------------------------------------------

    def refund(self, params: JSON, origin: Origin | None = None) -> tuple[JSON, list[JSON]]:
        intent_id = form.text(params, "payment_intent")
        charge_id = form.text(params, "charge")
        if (intent_id is None) == (charge_id is None):
            raise StripeApiError(400, "Provide exactly one of `payment_intent` or `charge`.", param="payment_intent")
        if intent_id is not None:
            intent = self.payment_intent(intent_id)
            charge = self.charges.get(str(intent["latest_charge"] or ""))
            if intent["status"] != "succeeded" or charge is None:
                raise StripeApiError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                    param="payment_intent",
                )
        else:
            assert charge_id is not None
            found = self.charges.get(charge_id)
            if found is None:
                raise resource_missing("charge", charge_id, param="charge")
            charge = found
        remaining = int(charge["amount"]) - int(charge["amount_refunded"])
        if remaining <= 0:
            raise StripeApiError(
                400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        amount = form.integer(params, "amount")
        if amount is None:
            amount = remaining
        if amount <= 0:
            raise StripeApiError(400, "Refund amount must be positive.", param="amount")
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                param="amount",
                code="amount_too_large",
            )
        reason = form.text(params, "reason")
        if reason is not None and reason not in ("duplicate", "fraudulent", "requested_by_customer"):
            raise StripeApiError(400, f"Invalid reason: {reason}", param="reason")
        refund: JSON = {
            "id": new_id("re_3"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn_3"),
            "charge": charge["id"],
            "created": self.now(),
            "currency": charge["currency"],
            "failure_reason": None,
            "metadata": form.metadata(params),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] = int(charge["amount_refunded"]) + amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        events = [self._event("charge.refunded", charge, origin), self._event("refund.created", refund, origin)]
        return refund, events

    def refund_by_id(self, refund_id: str) -> JSON:
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise resource_missing("refund", refund_id)
        return refund

    def charge(self, charge_id: str) -> JSON:
        charge = self.charges.get(charge_id)
        if charge is None:
            raise resource_missing("charge", charge_id)
        return charge
