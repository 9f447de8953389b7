"""The hosted Checkout page at `/checkout/{session_id}`: pay, decline or abandon.

A person clicks; a test adds `?sandbox_outcome=pay|decline|abandon` (and `sandbox_method=card|mobilepay|
google_pay|apple_pay`, default the first offered) and gets the same action at once, then a 303 to
`success_url` or `cancel_url`. Only the methods the session allows are offered (its types, narrowed by
its payment method configuration); paying with another is refused.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fakes.stripe.api import fake_of
from fakes.stripe.errors import StripeApiError
from fakes.stripe.ledger import OUTCOMES, ZERO_DECIMAL_CURRENCIES

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1f36}}
.amount{{font-size:2rem;font-weight:600}}table{{width:100%;border-collapse:collapse}}
td{{padding:.3rem 0;border-bottom:1px solid #e3e8ee}}td.num{{text-align:right}}
fieldset{{border:1px solid #e3e8ee;border-radius:6px;margin:1rem 0}}label{{display:block;padding:.2rem 0}}
button{{padding:.5rem 1rem;margin:.2rem .4rem .2rem 0;border-radius:6px;border:1px solid #635bff}}
button.pay{{background:#635bff;color:#fff}}.note{{color:#697386;font-size:.85rem}}</style></head>
<body><p class="note">Stripe sandbox: no real money moves.</p><h1>{title}</h1>{body}</body></html>"""

_METHOD_LABELS = {"card": "Card", "google_pay": "Google Pay", "apple_pay": "Apple Pay", "mobilepay": "MobilePay"}


def format_amount(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL_CURRENCIES:
        return f"{amount} {currency.upper()}"
    return f"{amount // 100}.{amount % 100:02d} {currency.upper()}"


def _page(title: str, body: str, status: int = 200, lang: str = "en") -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body, lang=escape(lang)), status_code=status)


def _checkout_form(session: dict[str, Any], items: list[dict[str, Any]], action: str, methods: list[str]) -> str:
    currency = str(session["currency"])
    rows = "".join(
        f"<tr><td>{escape(str(item['description']))} × {int(item['quantity'])}</td>"
        f'<td class="num">{format_amount(int(item["amount_total"]), currency)}</td></tr>'
        for item in items
    )
    choices = "".join(
        f'<label><input type="radio" name="sandbox_method" value="{method}"{" checked" if index == 0 else ""}> '
        f"{_METHOD_LABELS[method]}</label>"
        for index, method in enumerate(methods)
    )
    return (
        f'<p class="amount" data-amount="{int(session["amount_total"])}" data-currency="{escape(currency)}">'
        f"{format_amount(int(session['amount_total']), currency)}</p>"
        f"<table>{rows}</table>"
        f'<form method="get" action="{escape(action)}">'
        f"<fieldset><legend>Payment method</legend>{choices}</fieldset>"
        '<button class="pay" name="sandbox_outcome" value="pay">Pay</button>'
        '<button name="sandbox_outcome" value="decline">Decline</button>'
        '<button name="sandbox_outcome" value="abandon">Abandon</button>'
        "</form>"
    )


def _closed(session: dict[str, Any], status: int = 200) -> HTMLResponse:
    state = str(session["status"])
    if state == "complete":
        return _page("Payment complete", "<p>This Checkout Session is already paid.</p>", status)
    return _page("Checkout expired", f"<p>This Checkout Session is {escape(state)}; start again.</p>", status)


router = APIRouter(include_in_schema=False)


@router.get("/checkout/{session_id}")
async def checkout_page(request: Request, session_id: str) -> Response:
    fake = fake_of(request)
    ledger = fake.ledger
    session = ledger.sessions.get(session_id)
    if session is None:
        return _page("Not found", "<p>No such Checkout Session.</p>", 404)
    await fake.publish(ledger.touch(session_id))
    outcome = request.query_params.get("sandbox_outcome")
    if outcome is None:
        if session["status"] != "open":
            return _closed(session)
        action = f"{request.scope.get('root_path', '')}/checkout/{session_id}"
        methods = ledger.offered_methods(session)
        body = _checkout_form(session, ledger.line_items.get(session_id, []), action, methods)
        return _page("Pay with Stripe (sandbox)", body, lang=str(session["locale"] or "en"))
    if outcome not in OUTCOMES:
        return _page("Bad request", f"<p>Unknown sandbox_outcome {escape(outcome)!r}.</p>", 400)
    if session["status"] != "open":
        return _closed(session, 409)
    # No choice sent: the first method offered (a session for one method offers only it).
    method = request.query_params.get("sandbox_method") or next(iter(ledger.offered_methods(session)), "card")
    try:
        events = ledger.settle(session_id, outcome, method)
    except StripeApiError as exc:
        return _page("Bad request", f"<p>{escape(exc.message)}</p>", 400)
    await fake.publish(events)
    if outcome == "pay":
        target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
    elif session["cancel_url"]:
        target = str(session["cancel_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
    else:  # no cancel_url: back to this page (it shows the open or expired session)
        target = f"{request.scope.get('root_path', '')}/checkout/{session_id}"
    return RedirectResponse(target, status_code=303)
