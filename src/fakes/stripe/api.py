"""The `/v1` API the SDK calls (reference §2.13): auth, idempotency, error bodies, `expand[]`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fakes.stripe import form
from fakes.stripe.errors import StripeApiError
from fakes.stripe.ledger import API_VERSION, JSON, Origin

if TYPE_CHECKING:
    from fakes.stripe.fake import StripeFake

_MISSING_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
)


def fake_of(request: Request) -> StripeFake:
    """The fake whose app is serving `request` (its routes are shared by every fake in the process)."""
    fake: StripeFake = request.app.state.fake
    return fake


def root_url(request: Request) -> str:
    """The fake's absolute root, including any mount prefix (`root_path`)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def relative_path(request: Request) -> str:
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


@dataclass
class ApiCall:
    """One decoded request; actions append the events they cause to `events`.

    Events the clock caused (a session past `expires_at`, noticed while answering) go to `overdue`:
    queued, not delivered inside this call, so a client awaiting this answer is not called back.
    """

    params: JSON
    origin: Origin
    hosted_base: str
    events: list[JSON] = field(default_factory=list)
    overdue: list[JSON] = field(default_factory=list)

    @property
    def expand(self) -> list[str]:
        return [str(path) for path in form.sequence(self.params, "expand")]


Action = Callable[[ApiCall], JSON]


class ApiRequest(NamedTuple):
    """One `/v1` request the fake answered (params decoded), for tests that check what a client sent."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    status: int


@dataclass
class StoredResponse:
    fingerprint: str
    status: int
    body: dict[str, Any]


@dataclass
class InjectedError:
    error: StripeApiError
    times: int
    should_retry: bool | None = None


@dataclass
class Faults:
    queue: list[InjectedError] = field(default_factory=list)

    def take(self) -> InjectedError | None:
        if not self.queue:
            return None
        head = self.queue[0]
        head.times -= 1
        if head.times <= 0:
            self.queue.pop(0)
        return head


def _authenticate(fake: StripeFake, header: str | None) -> None:
    scheme, _, key = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise StripeApiError(401, _MISSING_KEY)
    if key.strip() != fake.api_key:
        raise StripeApiError(401, f"Invalid API Key provided: {key.strip()[:8]}****{key.strip()[-4:]}")


def _fingerprint(method: str, path: str, params: JSON) -> str:
    return hashlib.sha256(json.dumps([method, path, params], sort_keys=True).encode()).hexdigest()


def _json(status: int, body: JSON, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Stripe-Version": API_VERSION, **(headers or {})})


async def answer(request: Request, action: Action) -> Response:
    """Authenticate, apply faults and idempotency, run `action`, publish its events, log the call."""
    fake = fake_of(request)
    request_id: str | None = getattr(request.state, "request_id", None)
    method = request.method
    path = relative_path(request)
    key = request.headers.get("idempotency-key") if method == "POST" else None
    call = ApiCall({}, Origin(request_id, key), root_url(request))
    headers: dict[str, str] = {"Idempotency-Key": key} if key else {}
    try:
        _authenticate(fake, request.headers.get("authorization"))
        if method == "POST":
            call.params = form.decode_stripe_form((await request.body()).decode("utf-8", errors="replace"))
        else:
            call.params = form.decode_stripe_form(request.url.query)
        injected = fake.faults.take()
        if injected is not None:
            if injected.should_retry is not None:
                injected.error.headers["Stripe-Should-Retry"] = "true" if injected.should_retry else "false"
            raise injected.error
        fingerprint = _fingerprint(method, path, call.params)
        stored = fake.idempotency.get(key) if key else None
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise StripeApiError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were first used "
                    f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                    type="idempotency_error",
                )
            response = _json(stored.status, stored.body, {**headers, "Idempotent-Replayed": "true"})
        else:
            body = action(call)
            if call.expand and "id" in body:
                body = fake.ledger.expand(body, call.expand)
            response = _json(200, body, headers)
            if key:
                fake.idempotency[key] = StoredResponse(fingerprint, 200, body)
    except StripeApiError as exc:
        response = _json(exc.status, exc.body(request_id), {**headers, **exc.headers})
    fake.requests.append(ApiRequest(method, path, call.params, key, response.status_code))
    fake.queue_overdue(call.overdue)
    await fake.publish(call.events)
    return response


router = APIRouter(prefix="/v1", include_in_schema=False)


@router.post("/checkout/sessions")
async def create_session(request: Request) -> Response:
    ledger = fake_of(request).ledger
    return await answer(request, lambda call: ledger.create_session(call.params, call.hosted_base))


@router.get("/checkout/sessions/{session_id}")
async def retrieve_session(request: Request, session_id: str) -> Response:
    ledger = fake_of(request).ledger

    def act(call: ApiCall) -> JSON:
        call.overdue.extend(ledger.touch(session_id))
        return ledger.session(session_id)

    return await answer(request, act)


@router.get("/checkout/sessions/{session_id}/line_items")
async def session_line_items(request: Request, session_id: str) -> Response:
    ledger = fake_of(request).ledger
    return await answer(request, lambda call: ledger.list_of_line_items(session_id))


@router.post("/checkout/sessions/{session_id}/expire")
async def expire_session(request: Request, session_id: str) -> Response:
    ledger = fake_of(request).ledger

    def act(call: ApiCall) -> JSON:
        call.overdue.extend(ledger.touch(session_id))
        session, events = ledger.expire_session(session_id, call.origin)
        call.events.extend(events)
        return session

    return await answer(request, act)


@router.get("/payment_intents/{intent_id}")
async def retrieve_payment_intent(request: Request, intent_id: str) -> Response:
    ledger = fake_of(request).ledger
    return await answer(request, lambda call: ledger.payment_intent(intent_id))


@router.get("/charges/{charge_id}")
async def retrieve_charge(request: Request, charge_id: str) -> Response:
    ledger = fake_of(request).ledger
    return await answer(request, lambda call: ledger.charge(charge_id))


@router.post("/refunds")
async def create_refund(request: Request) -> Response:
    ledger = fake_of(request).ledger

    def act(call: ApiCall) -> JSON:
        refund, events = ledger.refund(call.params, call.origin)
        call.events.extend(events)
        return refund

    return await answer(request, act)


@router.get("/refunds/{refund_id}")
async def retrieve_refund(request: Request, refund_id: str) -> Response:
    ledger = fake_of(request).ledger
    return await answer(request, lambda call: ledger.refund_by_id(refund_id))


@router.post("/payment_method_configurations")
async def create_configuration(request: Request) -> Response:
    ledger = fake_of(request).ledger
    return await answer(request, lambda call: ledger.create_configuration(call.params))


@router.get("/payment_method_configurations/{configuration_id}")
async def retrieve_configuration(request: Request, configuration_id: str) -> Response:
    ledger = fake_of(request).ledger
    return await answer(request, lambda call: ledger.configuration(configuration_id))


@router.get("/events/{event_id}")
async def retrieve_event(request: Request, event_id: str) -> Response:
    ledger = fake_of(request).ledger
    return await answer(request, lambda call: ledger.event(event_id))


@router.api_route("/{rest:path}", methods=["GET", "POST", "DELETE"])
async def unknown(request: Request, rest: str) -> Response:
    def act(call: ApiCall) -> JSON:
        raise StripeApiError(404, f"Unrecognized request URL ({request.method}: /v1/{rest}).")

    return await answer(request, act)
