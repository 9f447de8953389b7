"""The Data API console: sign-up and confirmation, keys, plan and quota, usage, invoices, and the try-it page.

Every page calls the services the API's endpoints call (signup, api_key, plan, usage, receipt): no
second business logic. A key's secret is in one answer only, the one that created it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from carpulse.api_key.errors import ApiKeyNotFound
from carpulse.api_key.service import api_keys
from carpulse.database import SessionDep, transaction
from carpulse.models import Account, AccountRole
from carpulse.plan.service import plans
from carpulse.rate_limit import enforce, limit_by_ip, request_client_ip
from carpulse.receipt.errors import InvoiceNotFound
from carpulse.receipt.invoice import invoices
from carpulse.receipt.invoice_document import render_invoice_pdf
from carpulse.receipt.repository import InvoiceRepository
from carpulse.signup.errors import ConfirmationTokenExpired, ConfirmationTokenInvalid
from carpulse.signup.schemas import MIN_PASSWORD_LENGTH, Registration
from carpulse.signup.service import signups
from carpulse.state import get_state
from carpulse.usage.service import seconds_to_midnight, usage
from carpulse.web.console import chart, registration, trial
from carpulse.web.csrf import verify_csrf
from carpulse.web.locale import page_locale
from carpulse.web.pages import PageError, page_router, redirect, render_page
from carpulse.web.session import OptionalPageAccount, PageClient, require_role, secure_cookies

router = page_router(prefix="/console")

# The address a browser just registered or asked a new link for, shown on the "check your mail" page.
SIGNUP_COOKIE = "cp_console_signup"
SIGNUP_COOKIE_SECONDS = 3600
DAYS_CHARTED = 30
KEY_NAME_MAX = 100

PageTrier = Annotated[Account, Depends(require_role(AccountRole.api_client, AccountRole.admin))]


def _not_your_key() -> PageError:
    return PageError(404, "web.console.key.not_found", action=("web.console.back", "/console"))


def _not_your_invoice() -> PageError:
    return PageError(404, "web.console.invoice.not_found", action=("web.console.back", "/console"))


def _remember_address(request: Request, response: Response, email: str) -> None:
    response.set_cookie(
        SIGNUP_COOKIE,
        email,
        max_age=SIGNUP_COOKIE_SECONDS,
        httponly=True,
        secure=secure_cookies(request),
        samesite="strict",
        path="/console",
    )


# Sign-up ------------------------------------------------------------------------------------------------


@router.get("/register")
async def register_page(request: Request, account: OptionalPageAccount) -> Response:
    if account is not None and account.role is AccountRole.api_client:
        return redirect(request, "/console")
    return _register_form(request, {}, {})


def _register_form(
    request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    locale = page_locale(request)
    return render_page(
        request,
        "pages/console/register.html",
        status_code=status_code,
        values={"country": registration.default_country(locale)} | values,
        errors=errors,
        countries=registration.countries(locale),
        min_password=MIN_PASSWORD_LENGTH,
        vat_prefix=registration.vat_prefix_of(values.get("country", "")),
    )


@router.post("/register", dependencies=[Depends(verify_csrf)])
async def register(
    request: Request,
    session: SessionDep,
    company_name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    country: Annotated[str, Form(max_length=100)] = "",
    vat_number: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    values = {"company_name": company_name, "email": email, "country": country, "vat_number": vat_number}
    try:
        form = Registration.model_validate(
            {
                "email": email.strip(),
                "password": password,
                "company_name": company_name,
                "country": country,
                "vat_number": vat_number.strip() or None,
            }
        )
    except ValidationError as exc:
        return _register_form(request, values, registration.field_errors(exc, country), status_code=422)
    address = str(form.email)
    await enforce(request, "register", request_client_ip(request))
    await enforce(request, "register", "address", address.lower())
    await signups.register(session, get_state(request), form)
    response = redirect(request, "/console/check-mail")
    _remember_address(request, response, address)
    return response


@router.get("/check-mail")
async def check_mail(request: Request) -> Response:
    state = get_state(request)
    address = request.cookies.get(SIGNUP_COOKIE, "")[:320]
    return render_page(
        request,
        "pages/console/check_mail.html",
        email=address,
        lifetime_hours=max(1, state.settings.signup.confirmation_ttl_seconds // 3600),
        mailbox_url=registration.sandbox_mailbox_url(address) if state.settings.serves_sandbox else None,
    )


@router.get("/resend")
async def resend_page(request: Request) -> Response:
    return render_page(
        request,
        "pages/console/resend.html",
        email=request.cookies.get(SIGNUP_COOKIE, "")[:320],
        error=None,
    )


@router.post("/resend", dependencies=[Depends(verify_csrf)])
async def resend(request: Request, session: SessionDep, email: Annotated[str, Form(max_length=1000)] = "") -> Response:
    address = registration.email_or_none(email)
    if address is None:
        return render_page(
            request,
            "pages/console/resend.html",
            status_code=422,
            email=email,
            error="web.console.field.email.invalid",
        )
    await enforce(request, "confirmation_resend", request_client_ip(request))
    await enforce(request, "confirmation_resend", "address", address.lower())
    await signups.resend(session, get_state(request), address)
    response = redirect(request, "/console/check-mail")
    _remember_address(request, response, address)
    return response


@router.get("/confirm", dependencies=[Depends(limit_by_ip("confirm"))])
async def confirm(request: Request, token: str = "") -> Response:
    """The link in the mail: confirms at once (the link works once; a second visit says it is done)."""
    if not token or len(token) > 256:
        raise PageError(400, "web.console.confirm.invalid", action=("web.console.resend.action", "/console/resend"))
    state = get_state(request)
    try:
        # Not the GET's read-only transaction: following the link writes.
        async with transaction(state.sessionmaker, state.jobs) as session:
            outcome = await signups.confirm(session, state, token)
    except ConfirmationTokenInvalid as exc:
        raise PageError(
            400, "web.console.confirm.invalid", action=("web.console.resend.action", "/console/resend")
        ) from exc
    except ConfirmationTokenExpired as exc:
        raise PageError(
            410, "web.console.confirm.expired", action=("web.console.resend.action", "/console/resend")
        ) from exc
    response = render_page(request, "pages/console/confirmed.html", outcome=outcome)
    response.delete_cookie(SIGNUP_COOKIE, path="/console")
    return response


# The console -----------------------------------------------------------------------------------------------


async def _dashboard(
    request: Request, session: SessionDep, account: Account, status_code: int = 200, **extra: Any
) -> Response:
    state = get_state(request)
    now = state.clock.now()
    today = now.astimezone(UTC).date()
    plan, client = await plans.of_client(session, account.id, today)
    first = today - timedelta(days=DAYS_CHARTED - 1)
    days = await usage.report(session, account.id, first, today, "day")
    month = await usage.report(session, account.id, today.replace(day=1), today, "endpoint")
    used_today = sum(group.units for group in days.groups if group.group == today.isoformat())
    quota = plan.current.daily_quota
    rows = await InvoiceRepository(session).of_account(account.id)
    context: dict[str, Any] = {
        "plan": plan,
        "suspended": client.suspended_at is not None,
        "suspended_reason": client.suspended_reason,
        "used_today": used_today,
        "quota": quota,
        "quota_left": max(0, quota - used_today) if quota is not None else None,
        "quota_percent": min(100, round(100 * used_today / quota)) if quota else 0,
        "resets_at": datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC),
        "resets_in_hours": seconds_to_midnight(now) // 3600,
        "resets_in_minutes": seconds_to_midnight(now) % 3600 // 60,
        "keys": await api_keys.of_account(session, account),
        "day_chart": chart.by_day(days, first, today, today),
        "endpoints": chart.by_endpoint(month),
        "month_totals": month.totals,
        "invoices": [invoices.read(row, f"/console/invoices/{row.id}/pdf") for row in rows],
        "key_name": "",
        "key_error": None,
        "flash": request.query_params.get("notice"),
    }
    return render_page(request, "pages/console/dashboard.html", status_code=status_code, **(context | extra))


@router.get("")
async def dashboard(request: Request, session: SessionDep, account: PageClient) -> Response:
    return await _dashboard(request, session, account)


@router.post("/keys", dependencies=[Depends(verify_csrf)])
async def create_key(
    request: Request, session: SessionDep, account: PageClient, name: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    label = name.strip()
    if not label or len(label) > KEY_NAME_MAX:
        error = "web.console.key.name.required" if not label else "web.console.key.name.too_long"
        return await _dashboard(request, session, account, 422, key_name=name, key_error=error)
    state = get_state(request)
    row, secret = await api_keys.create(session, state.settings, account, label, state.clock)
    # The only answer that ever holds the secret: rendered, never redirected to, never stored.
    return render_page(request, "pages/console/key_created.html", status_code=201, key=row, secret=secret)


def _key_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _not_your_key() from None


@router.get("/keys/{key_id}/revoke")
async def revoke_page(request: Request, session: SessionDep, account: PageClient, key_id: str) -> Response:
    try:
        key = await api_keys.owned(session, account, _key_id(key_id))
    except ApiKeyNotFound as exc:
        raise _not_your_key() from exc
    if key.revoked_at is not None:
        return redirect(request, "/console?notice=already_revoked")
    return render_page(request, "pages/console/revoke.html", key=key)


@router.post("/keys/{key_id}/revoke", dependencies=[Depends(verify_csrf)])
async def revoke(request: Request, session: SessionDep, account: PageClient, key_id: str) -> Response:
    state = get_state(request)
    try:
        await api_keys.revoke(session, account, _key_id(key_id), state.clock, state.api_key_cache)
    except ApiKeyNotFound as exc:
        raise _not_your_key() from exc
    return redirect(request, "/console?notice=revoked")


@router.get("/invoices/{invoice_id}/pdf")
async def invoice_pdf(request: Request, session: SessionDep, account: PageClient, invoice_id: str) -> Response:
    if len(invoice_id) > 64:
        raise _not_your_invoice()
    await enforce(request, "pdf", str(account.id))
    try:
        row = await invoices.owned(session, account.id, invoice_id)
    except InvoiceNotFound as exc:
        raise _not_your_invoice() from exc
    invoice = invoices.read(row, f"/console/invoices/{row.id}/pdf")
    return Response(
        content=await render_invoice_pdf(invoice),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/try")
async def try_page(request: Request, session: SessionDep, account: PageTrier) -> Response:
    state = get_state(request)
    return render_page(
        request,
        "pages/console/try.html",
        calls=trial.CALLS,
        vins=await trial.example_vins(session, synthetic=state.settings.data_api_synthetic),
        models=await trial.example_models(session),
        key_prefix=api_keys.prefix(state.settings),
    )
