"""The hosted approval page (`/checkoutnow?token=ORDER_ID`): a person clicks, a test passes `sandbox_outcome`.

Outcomes: `approve` (order APPROVED, back to `return_url` with `token` and `PayerID`), `cancel`
(order unchanged, back to `cancel_url` with `token`), `decline` (approved, but the capture comes
back DECLINED).
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fakes.paypal.api import fake_of, root_url
from fakes.paypal.orders import Order, money

OUTCOMES = ("approve", "cancel", "decline")
_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}
.amount{{font-size:1.6rem;font-weight:600}}button{{padding:.5rem 1rem;margin:.3rem .3rem 0 0}}</style></head>
<body><p><strong>PayPal</strong> sandbox</p><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200, lang: str = "en") -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), body=body, lang=escape(lang)), status_code=status)


def with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _summary(order: Order) -> str:
    lines = []
    for unit in order.purchase_units:
        shown = money(unit.currency, unit.value)["value"]
        description = f"<p>{escape(unit.description)}</p>" if unit.description else ""
        lines.append(f'{description}<p class="amount">{escape(shown)} {escape(unit.currency)}</p>')
    return "".join(lines)


def _form(action: str, order: Order) -> str:
    buttons = (
        '<button name="sandbox_outcome" value="approve">Pay now</button>'
        '<button name="sandbox_outcome" value="decline">Pay with a card that will be declined</button>'
        '<button name="sandbox_outcome" value="cancel">Cancel and return to the merchant</button>'
    )
    return (
        f'<form method="get" action="{escape(action)}">'
        f'<input type="hidden" name="token" value="{escape(order.id)}">{buttons}</form>'
    )


router = APIRouter(include_in_schema=False)


@router.get("/checkoutnow")
async def checkout(request: Request, token: str = "", sandbox_outcome: str | None = None) -> Response:
    fake = fake_of(request)
    order = fake.orders.get(token)
    if order is None:
        return _page("Order not found", "<p>This checkout link is not valid.</p>", 404)
    lang = str(order.experience.get("locale") or "en").split("-")[0]
    if sandbox_outcome is None:
        if order.status not in ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED"):
            return _page("Checkout closed", f"<p>This order is {escape(order.status)}.</p>", 409, lang)
        brand = escape(str(order.experience.get("brand_name") or "the merchant"))
        body = f"<p>Pay {brand}</p>{_summary(order)}{_form(f'{root_url(request)}/checkoutnow', order)}"
        return _page("Review your payment", body, lang=lang)
    if sandbox_outcome not in OUTCOMES:
        return _page("Unknown outcome", f"<p>sandbox_outcome is one of {', '.join(OUTCOMES)}.</p>", 400, lang)
    if sandbox_outcome == "cancel":
        if order.cancel_url is None:
            return _page("Payment cancelled", "<p>You can close this window.</p>", lang=lang)
        return RedirectResponse(with_query(order.cancel_url, {"token": order.id}), status_code=303)
    try:
        await fake.approve_order(order.id, decline_capture=sandbox_outcome == "decline")
    except ValueError:
        return _page("Checkout closed", f"<p>This order is {escape(order.status)}.</p>", 409, lang)
    payer_id = str((order.payer or {}).get("payer_id", ""))
    if order.return_url is None:
        return _page("Payment approved", "<p>You can close this window.</p>", lang=lang)
    return RedirectResponse(with_query(order.return_url, {"token": order.id, "PayerID": payer_id}), status_code=303)
