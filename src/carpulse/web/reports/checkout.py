"""Buying reports in the browser: the packages, connecting a Tesla account, choosing vehicles and a package
with the server's live quote, paying with a provider, and a page for every way that can go wrong.

Every step calls the services the API's endpoints call (`connect`, `pricing`, `checkout`); failures are
raised as `PageError`s, so the request's transaction is rolled back and nothing half-made is kept.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from carpulse.connect.dependencies import ConnectContextDep
from carpulse.connect.errors import ConnectSessionNotFound, SelectionInvalid
from carpulse.connect.schemas import ConnectSession, Locale, SelectRequest
from carpulse.connect.service import connect
from carpulse.database import SessionDep
from carpulse.errors import CarPulseError
from carpulse.models import Order, OrderStatus, Quote
from carpulse.models.order import order_reference
from carpulse.order.checkout import checkout
from carpulse.order.errors import OrderNotFound, OrderNotPayable
from carpulse.order.repository import OrderRepository
from carpulse.order.schemas import CreateIntent
from carpulse.order.service import orders
from carpulse.payment.errors import CheckoutAlreadyPaid, CheckoutChanging
from carpulse.pricing.catalog import PACKAGES, PackageCode, package_name
from carpulse.pricing.errors import NothingSelected, QuoteExpired, QuoteNotFound, VoucherInvalid
from carpulse.pricing.service import pricing
from carpulse.rate_limit import limit_by_ip, limit_by_ip_and_session
from carpulse.state import State, get_state
from carpulse.web.csrf import verify_csrf
from carpulse.web.locale import page_locale
from carpulse.web.pages import PageError, page_router, redirect, render_page
from carpulse.web.reports.pictures import paint_of_hint, picture_url
from carpulse.web.session import secure_cookies

router = page_router(prefix="/reports")

SessionId = Annotated[str, Path(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
# Which order this browser is paying for (session and order ids): the return from the provider names
# only the order's public reference, which this cookie must match.
CHECKOUT_COOKIE = "cp_checkout"
CHECKOUT_COOKIE_SECONDS = 24 * 3600
START_OVER = ("web.buy.action.start_over", "/reports")
PAID = frozenset({OrderStatus.paid, OrderStatus.fulfilled, OrderStatus.refunded})
# What `create-intent` accepts besides a provider's name: the methods one provider carries.
METHOD_CHOICES = ("mobilepay", "google_pay", "apple_pay")
BRAND_NAMES = {"paypal": "PayPal", "mobilepay": "MobilePay", "google_pay": "Google Pay", "apple_pay": "Apple Pay"}


def order_page(order_id: str) -> str:
    return f"/orders/{order_id}"


def session_page(session_id: str, voucher: str | None = None) -> str:
    query = f"?{urlencode({'voucher': voucher})}" if voucher else ""
    return f"/reports/session/{session_id}{query}"


@dataclass(frozen=True)
class PayChoice:
    value: str
    label: str  # a catalogue id
    brand: str | None  # the brand name the label names, if any


def pay_choices(state: State) -> list[PayChoice]:
    """Every way to pay this server offers: each provider (all its methods), then each single method."""
    choices: list[PayChoice] = []
    for name in state.payments.names():
        if name == "stripe":
            choices.append(PayChoice("stripe", "web.buy.pay.card", None))
        else:
            choices.append(PayChoice(name, "web.buy.pay.with", BRAND_NAMES.get(name, name.title())))
    for name in state.payments.names():
        for method in sorted(state.payments.get(name).payment_methods()):
            if method in METHOD_CHOICES:
                choices.append(PayChoice(method, "web.buy.pay.with", BRAND_NAMES[method]))
    return choices


def catalog_view(state: State, locale: str) -> list[dict[str, object]]:
    settings = state.settings.pricing
    return [
        package.model_dump()
        for package in pricing.catalog(settings.vat_rate_percent, settings.currency, locale).packages
    ]


@router.get("")
async def start(request: Request) -> Response:
    state = get_state(request)
    locale = page_locale(request)
    connect_url = "/api/v1/tesla/oauth/start?" + urlencode(
        {"locale": Locale(locale).value, "return_url": f"{state.settings.base_url}/reports/connected"}
    )
    return render_page(
        request,
        "pages/reports/start.html",
        packages=catalog_view(state, locale),
        vat_rate=state.settings.pricing.vat_rate_percent,
        connect_url=connect_url,
    )


@router.get("/connected")
async def connected(request: Request, session_id: Annotated[str, Query(max_length=128)] = "") -> Response:
    """Where the connect callback sends the browser (`return_url`): on to the account's vehicles."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,128}", session_id):
        raise PageError(404, "web.buy.session.expired", action=START_OVER)
    return redirect(request, session_page(session_id))


CONNECT_PROBLEMS = frozenset({"declined", "expired", "other-browser", "sign-in-failed", "unavailable", "failed"})


@router.get("/connect-failed")
async def connect_failed(request: Request, problem: Annotated[str, Query(max_length=32)] = "failed") -> Response:
    """The connect callback's failures (`connect.endpoints._failure_word`), explained with the way on."""
    word = problem if problem in CONNECT_PROBLEMS else "failed"
    status = 503 if word == "unavailable" else 400
    return render_page(
        request, "pages/reports/checkout_connect_failed.html", status_code=status, problem=word.replace("-", "_")
    )


async def _session(request: Request, context: ConnectContextDep, session_id: str) -> ConnectSession:
    try:
        return await connect.get(context, session_id)
    except ConnectSessionNotFound as exc:
        raise PageError(404, "web.buy.session.expired", action=START_OVER) from exc


@dataclass
class Choice:
    vins: list[str]
    package: PackageCode
    voucher: str


@dataclass
class Priced:
    quote: Quote | None
    problem: str | None = None  # a catalogue id: why there is no quote
    problem_values: dict[str, object] | None = None
    voucher_error: bool = False


def _package(value: str) -> PackageCode:
    try:
        return PackageCode(value)
    except ValueError as exc:
        raise PageError(422, "web.buy.error.package", action=START_OVER, package=value[:40]) from exc


async def _price(
    request: Request, db: SessionDep, context: ConnectContextDep, session: ConnectSession, choice: Choice
) -> Priced:
    """Select (unless an order has fixed the selection) and quote it with the voucher, as the API's
    `select` then `quote` would; a voucher that cannot be used is reported and the quote made without it."""
    state = get_state(request)
    if session.order_id is None:
        if not choice.vins:
            return Priced(None, "web.buy.quote.nothing")
        try:
            await connect.select(context, session.id, SelectRequest(vins=choice.vins, package=choice.package))
        except ValidationError as exc:
            raise PageError(422, "web.buy.error.vehicle", action=_back(session), vin="…") from exc
        except SelectionInvalid as exc:
            unknown = exc.extensions.get("unknown")
            if unknown:
                vin = ", ".join(str(v)[:20] for v in list(unknown)[:3])
                raise PageError(422, "web.buy.error.vehicle", action=_back(session), vin=vin) from exc
            rules = PACKAGES[choice.package]
            return Priced(
                None,
                "web.buy.quote.count",
                {
                    "package": package_name(choice.package, page_locale(request)),
                    "min": rules.min_vehicles,
                    "max": rules.max_vehicles,
                },
            )
        session = await _session(request, context, session.id)
    settings = state.settings.pricing
    voucher = choice.voucher.strip() or None
    if voucher:
        await limit_by_ip_and_session(request, "voucher", session.id)

    async def quote(code: str | None) -> Quote:
        async with db.begin_nested():  # a refused voucher leaves nothing of its try behind
            return await pricing.quote(
                db,
                session,
                code,
                now=state.clock.now(),
                vat_rate=settings.vat_rate_percent,
                currency=settings.currency,
                ttl_seconds=settings.quote_ttl_seconds,
            )

    try:
        return Priced(await quote(voucher))
    except VoucherInvalid:
        return Priced(await quote(None), voucher_error=True)
    except NothingSelected:
        return Priced(None, "web.buy.quote.nothing")


def _back(session: ConnectSession) -> tuple[str, str]:
    return ("web.buy.action.back", session_page(session.id))


def _vehicles_view(session: ConnectSession) -> list[dict[str, object]]:
    return [
        {
            "vin": vehicle.vin,
            "name": vehicle.display_name,
            "model": vehicle.model,
            "year": vehicle.year,
            "state": vehicle.online_state,
            "picture": picture_url(vehicle.image_hint),
            "paint": paint_of_hint(vehicle.image_hint),
        }
        for vehicle in session.vehicles
    ]


async def _page(
    request: Request,
    db: SessionDep,
    session: ConnectSession,
    choice: Choice,
    priced: Priced,
    pending: Order | None,
    status_code: int = 200,
) -> Response:
    state = get_state(request)
    locale = page_locale(request)
    template = (
        "pages/reports/checkout_quote.html" if request.headers.get("hx-request") else "pages/reports/vehicles.html"
    )
    return render_page(
        request,
        template,
        status_code=status_code,
        session=session,
        vehicles=_vehicles_view(session),
        packages=catalog_view(state, locale),
        choice=choice,
        priced=priced,
        pending=pending,
        locked=session.order_id is not None,
        pay_choices=pay_choices(state),
        expires_at=session.expires_at,
    )


async def _order_of(db: SessionDep, session: ConnectSession) -> Order | None:
    return await OrderRepository(db).get(session.order_id) if session.order_id else None


def _initial_choice(session: ConnectSession, order: Order | None, voucher: str) -> Choice:
    if session.selection is not None:
        return Choice(list(session.selection.vins), session.selection.package, voucher)
    if order is not None:
        return Choice(list(order.vins), PackageCode(order.package), voucher)
    count = len(session.vehicles)
    package = PackageCode.pro if count <= PACKAGES[PackageCode.pro].max_vehicles else PackageCode.bulk
    return Choice([vehicle.vin for vehicle in session.vehicles][: PACKAGES[package].max_vehicles], package, voucher)


@router.get("/session/{session_id}")
async def vehicles(
    request: Request,
    session_id: SessionId,
    db: SessionDep,
    context: ConnectContextDep,
    voucher: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    session = await _session(request, context, session_id)
    order = await _order_of(db, session)
    if order is not None and order.status in PAID:
        return redirect(request, order_page(order.id))
    choice = _initial_choice(session, order, voucher or (order.voucher_code if order and order.voucher_code else ""))
    if order is not None and order.status is OrderStatus.pending_payment:
        # A checkout is open for this selection: continue it (or switch provider) rather than start a second.
        return await _page(request, db, session, choice, Priced(None), order)
    priced = await _price(request, db, context, session, choice)
    return await _page(request, db, session, choice, priced, None)


@router.post("/session/{session_id}/quote", dependencies=[Depends(verify_csrf)])
async def recalculate(
    request: Request,
    session_id: SessionId,
    db: SessionDep,
    context: ConnectContextDep,
    vins: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006 - FastAPI copies defaults
    package: Annotated[str, Form(max_length=64)] = "",
    voucher: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    session = await _session(request, context, session_id)
    order = await _order_of(db, session)
    if order is not None and order.status in PAID:
        return redirect(request, order_page(order.id))
    if order is not None and order.status is OrderStatus.pending_payment:
        return await _page(request, db, session, _initial_choice(session, order, voucher), Priced(None), order)
    choice = Choice([vin[:32] for vin in vins], _package(package), voucher)
    if session.order_id is not None:
        choice = _initial_choice(session, order, voucher)
    priced = await _price(request, db, context, session, choice)
    return await _page(request, db, session, choice, priced, None)


@router.post("/session/{session_id}/pay", dependencies=[Depends(verify_csrf), Depends(limit_by_ip("payment"))])
async def pay(
    request: Request,
    session_id: SessionId,
    db: SessionDep,
    context: ConnectContextDep,
    quote_id: Annotated[str, Form(max_length=64)] = "",
    provider: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Create the order and its payment exactly as `POST /api/v1/payment/create-intent` does, then off to
    the provider's checkout."""
    state = get_state(request)
    session = await _session(request, context, session_id)
    back = _back(session)
    if provider not in {choice.value for choice in pay_choices(state)}:
        raise PageError(422, "web.buy.error.provider", action=back, provider=provider[:32])
    try:
        body = CreateIntent(session_id=session.id, quote_id=quote_id, provider=provider, locale=page_locale(request))
    except ValidationError as exc:
        raise PageError(422, "web.buy.error.quote", action=back) from exc
    try:
        intent = await checkout.create_intent(db, state, session, body)
    except CarPulseError as exc:
        # A page's error is answered by the page route, past the transaction's edge, which would then
        # commit what the failed call had written (an order without its payment): undo it here.
        await db.rollback()
        raise _pay_problem(session, provider, exc) from exc
    if not intent.redirect_url:
        raise PageError(503, "web.buy.pay.outage", action=("web.buy.action.try_again", back[1]), provider=provider)
    response = redirect(request, intent.redirect_url)
    response.set_cookie(
        CHECKOUT_COOKIE,
        f"{session.id}.{intent.order_id}",
        max_age=CHECKOUT_COOKIE_SECONDS,
        path="/reports",
        httponly=True,
        secure=secure_cookies(request),
        samesite="lax",  # the provider sends the browser back with a top-level GET from its own site
    )
    return response


def _pay_problem(session: ConnectSession, provider: str, error: CarPulseError) -> Exception:
    """What the reader is told when `create-intent` refused, with the way on."""
    back = _back(session)
    retry = ("web.buy.action.try_again", back[1])
    if isinstance(error, QuoteNotFound):
        return PageError(422, "web.buy.error.quote", action=back)
    if isinstance(error, QuoteExpired | OrderNotPayable):
        return PageError(409, "web.buy.error.quote_expired", action=back)
    if isinstance(error, CheckoutAlreadyPaid):
        return PageError(409, "web.buy.error.paid", action=("web.buy.action.open_order", back[1]))
    if isinstance(error, CheckoutChanging):
        return PageError(409, "web.buy.error.changing", action=retry)
    if error.status >= 500:
        return PageError(503, "web.buy.pay.outage", action=retry, provider=BRAND_NAMES.get(provider, provider.title()))
    if error.status == 409:  # the voucher was used up or ended since the quote
        return PageError(409, "web.buy.error.voucher_gone", action=back)
    return error


@router.get("/checkout/return")
async def checkout_return(
    request: Request,
    db: SessionDep,
    reference: Annotated[str, Query(max_length=32, alias="checkout")] = "",
    payment: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """Back from the provider (through `/api/v1/payment/return`, which brought the order in line): the order
    this browser paid for, if the reference matches; its stored status decides, never the URL's word."""
    session_id, _, order_id = request.cookies.get(CHECKOUT_COOKIE, "").partition(".")
    if not order_id or order_reference(order_id) != reference:
        raise PageError(404, "web.buy.return.unknown", action=START_OVER, reference=reference[:20] or "–")
    try:
        order = await orders.get(db, order_id)
    except OrderNotFound as exc:
        raise PageError(404, "web.buy.return.unknown", action=START_OVER, reference=reference[:20]) from exc
    if order.status is OrderStatus.pending_payment:
        # The way back may beat the provider's webhook: ask the provider, as `POST /payment/verify` does.
        with contextlib.suppress(CarPulseError):
            await checkout.verify(db, get_state(request), order.id)
        await db.refresh(order)  # the call ended the read; load what it (or a webhook) left
    if order.status in PAID:
        return redirect(request, order_page(order.id))
    transitions = await OrderRepository(db).transitions(order.id)
    # A declined order's checkout is then closed by a job, which may have made it `expired` already.
    if order.status is OrderStatus.failed or any(t.to_status == OrderStatus.failed.value for t in transitions):
        outcome = "declined"
    elif order.status is OrderStatus.expired or payment in ("abandoned", "replaced"):
        outcome = "abandoned"
    else:
        outcome = "processing"
    retry = session_page(session_id, order.voucher_code)
    response = render_page(
        request,
        "pages/reports/pay_result.html",
        status_code=200,
        outcome=outcome,
        order=order,
        reference=reference,
        retry_url=retry,
        provider_name=BRAND_NAMES.get(order.provider, order.provider.title()),
    )
    if outcome == "processing":
        # Confirmation is on its way (a webhook): look again shortly, without a script.
        response.headers["refresh"] = "3"
    return response
