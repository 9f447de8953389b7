"""A typed client for Tesla's OAuth host and Fleet API, over an injected `httpx.AsyncClient`.

Tokens reach the Fleet client through a `TokenSource`, so refreshing (and storing the rotated
refresh token) stays in our connect service. Facts: shared/reference/tesla-fleet-api.md.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from carpulse.kit.clock import system_clock
from carpulse.kit.http import Attempts, CircuitOpen, RetryPolicy, VendorHttp, retry_after_seconds
from carpulse.kit.logs import get_logger
from carpulse.kit.oauth import pkce_challenge
from carpulse.kit.resilience import CircuitBreakers
from carpulse.provider.tesla.errors import (
    TeslaError,
    TeslaOAuthError,
    TeslaRateLimited,
    TeslaReauthorizationRequired,
    TeslaTimeout,
    TeslaUnavailable,
    error_for_status,
)
from carpulse.provider.tesla.schemas import RegionResponse, TeslaVehicle, TokenResponse

log = get_logger("carpulse.tesla")

_OUT_OF_REGION = re.compile(r"https?://[A-Za-z0-9.\-:]+(?:/[A-Za-z0-9._\-/]*)?")
PAGE_SIZE_VEHICLES = 100
PAGE_SIZE_CHARGING = 50


pkce_pair = pkce_challenge  # the name the bench and tests know


def unverified_claims(token: str) -> dict[str, Any]:
    """Read a JWT's claims without verifying it (only to learn scopes and expiry)."""
    try:
        payload = token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims
    except (IndexError, ValueError):
        return {}


@dataclass(frozen=True)
class TeslaEndpoints:
    authorize_url: str
    token_url: str
    fleet_base_urls: dict[str, str]

    def region_of(self, base_url: str) -> str | None:
        normalized = base_url.rstrip("/")
        for region, base in self.fleet_base_urls.items():
            if base.rstrip("/") == normalized:
                return region
        return None


class TeslaAuthClient:
    """Authorize URL, code exchange and refresh at the token host."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoints: TeslaEndpoints,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: str,
        timeout_seconds: float = 15.0,
    ) -> None:
        self.http = http
        self.endpoints = endpoints
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.scopes = scopes
        self.timeout = timeout_seconds
        # No breaker and no retries: a code is single-use and a refresh token rotates, so neither is safe to repeat.
        self.calls = VendorHttp(http, vendor="tesla", timeout_seconds=timeout_seconds)

    def authorization_url(self, state: str, code_challenge: str, locale: str | None = None) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scopes,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "prompt_missing_scopes": "true",
        }
        if locale:
            params["locale"] = locale
        return f"{self.endpoints.authorize_url}?{urlencode(params)}"

    async def exchange_code(self, code: str, code_verifier: str, audience: str) -> TokenResponse:
        return await self._token_request(
            {
                "grant_type": "authorization_code",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "code": code,
                "code_verifier": code_verifier,
                "audience": audience,
                "redirect_uri": self.redirect_uri,
            }
        )

    async def refresh(self, refresh_token: str) -> TokenResponse:
        return await self._token_request(
            {"grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": refresh_token}
        )

    async def _token_request(self, form: dict[str, str]) -> TokenResponse:
        grant = form["grant_type"]
        try:
            response = await self.calls.send(
                "POST", self.endpoints.token_url, retry_safe=False, data=form, log_fields={"grant": grant}
            )
        except httpx.TimeoutException as exc:
            raise TeslaTimeout("Tesla's sign-in service did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise TeslaUnavailable("Tesla's sign-in service cannot be reached.") from exc
        body = _json_or_empty(response)
        if response.status_code == 200:
            try:
                return TokenResponse.model_validate(body)
            except ValueError as exc:
                raise TeslaUnavailable("Tesla's sign-in service sent an unreadable answer.") from exc
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        log.warning("tesla.token_request_failed", grant=grant, status=response.status_code, error=error)
        if response.status_code >= 500:
            raise TeslaUnavailable("Tesla's sign-in service is failing; try again shortly.")
        if error == "login_required" or (grant == "refresh_token" and response.status_code in (400, 401)):
            raise TeslaReauthorizationRequired("Tesla asks you to sign in again.")
        raise TeslaOAuthError(f"Tesla refused the sign-in ({error or response.status_code}); start again.")


class TokenSource(Protocol):
    async def access_token(self) -> str:
        """A currently valid access token."""
        ...

    async def refreshed_access_token(self, rejected: str) -> str:
        """A new access token after Tesla rejected `rejected` (refreshing unless already done)."""
        ...


def _json_or_empty(response: httpx.Response) -> Any:
    if "json" not in response.headers.get("content-type", ""):
        return {}
    try:
        return response.json()
    except ValueError:
        return {}


def _unwrap(body: Any) -> Any:
    """Tesla wraps most payloads in `response`, but some `/dx/` endpoints answer bare."""
    if isinstance(body, dict) and "response" in body:
        return body["response"]
    return body


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        # Tesla's 429 sometimes says it only in the body.
        match = re.search(r"Retry in (\d+) seconds", response.text or "")
        raw = match.group(1) if match else None
    return retry_after_seconds(raw, system_clock.now())


class TeslaFleetClient:
    """Fleet API calls for one user: refresh once on 401, follow 421 once, retry 429/5xx with backoff."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoints: TeslaEndpoints,
        base_url: str,
        tokens: TokenSource,
        *,
        breakers: CircuitBreakers,
        max_retries: int = 3,
        retry_after_cap_seconds: float = 10.0,
        timeout_seconds: float = 15.0,
        on_base_url_change: Callable[[str], Awaitable[None]] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.endpoints = endpoints
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.on_base_url_change = on_base_url_change
        self.calls = VendorHttp(
            http,
            vendor="tesla",
            timeout_seconds=timeout_seconds,
            policy=RetryPolicy(max_retries=max_retries, retry_after_cap_seconds=retry_after_cap_seconds),
            breakers=breakers,
            sleep=sleep,
            retry_after=_retry_after,
            trace_headers={"txid": "x-txid"},
        )
        self.billable_calls: Counter[str] = Counter()

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        return self.calls.sleep

    @sleep.setter
    def sleep(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        self.calls.sleep = sleep

    @property
    def region(self) -> str:
        return self.endpoints.region_of(self.base_url) or "unknown"

    def _redirect_target(self, response: httpx.Response) -> str | None:
        """The regional base URL a 421 names, if it is one we know (never an arbitrary host)."""
        body = _json_or_empty(response)
        text = (
            " ".join(str(body.get(key, "")) for key in ("error", "error_description")) if isinstance(body, dict) else ""
        )
        for candidate in _OUT_OF_REGION.findall(text or response.text):
            for base in self.endpoints.fleet_base_urls.values():
                if candidate.rstrip("/,.") == base.rstrip("/"):
                    return base.rstrip("/")
        return None

    async def request(
        self,
        method: str,
        path: str,
        *,
        category: str = "data",
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        attempts = Attempts()  # one retry budget across the refresh and the reroute
        refreshed = False
        rerouted = False

        def bill(response: httpx.Response) -> None:
            if response.status_code < 500:
                self.billable_calls[category] += 1  # Tesla bills every answer below 500

        while True:
            token = await self.tokens.access_token()
            try:
                # Every Fleet call we make is safe to repeat: reads, and `wake_up`, which only asks the car to wake.
                response = await self.calls.send(
                    method,
                    f"{self.base_url}{path}",
                    retry_safe=True,
                    breaker_key=f"tesla:{self.region}",
                    attempts=attempts,
                    on_answer=bill,
                    log_fields={"region": self.region},
                    params=params,
                    json=json_body if method != "GET" else None,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
            except CircuitOpen as exc:
                wait = max(1, round(exc.retry_after))
                raise TeslaUnavailable(
                    "Tesla has been failing; we pause calls for a moment.", headers={"Retry-After": str(wait)}
                ) from exc
            except httpx.TimeoutException as exc:
                raise TeslaTimeout("Tesla did not answer in time; try again shortly.") from exc
            except httpx.TransportError as exc:
                raise TeslaUnavailable("Tesla cannot be reached right now.") from exc

            status = response.status_code
            if status >= 500:
                raise error_for_status(status)(f"Tesla answered {status} after {attempts.retries + 1} attempts.")
            if status == 401 and not refreshed:
                refreshed = True
                await self.tokens.refreshed_access_token(token)
                continue
            if status == 421 and not rerouted:
                target = self._redirect_target(response)
                if target is not None:
                    rerouted = True
                    self.base_url = target
                    if self.on_base_url_change is not None:
                        await self.on_base_url_change(target)
                    continue
            if status == 429:
                retry_after = _retry_after(response)
                retry_in = str(round(retry_after)) if retry_after is not None else "60"
                raise TeslaRateLimited(
                    f"Tesla asks us to wait {retry_in} s before calling again for this account.",
                    headers={"Retry-After": retry_in},
                )
            if status >= 400:
                body = _json_or_empty(response)
                reason = body.get("error") if isinstance(body, dict) else None
                raise error_for_status(status)(f"Tesla answered {status}: {reason or response.reason_phrase}.")
            return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        try:
            return _unwrap(response.json())
        except ValueError as exc:
            raise TeslaError("Tesla sent an unreadable answer.") from exc

    async def user_region(self) -> RegionResponse:
        return RegionResponse.model_validate(await self._json("GET", "/api/1/users/region"))

    async def me(self) -> dict[str, Any]:
        body = await self._json("GET", "/api/1/users/me")
        return body if isinstance(body, dict) else {}

    async def vehicles(self) -> list[TeslaVehicle]:
        vehicles: list[TeslaVehicle] = []
        page = 1
        while True:
            response = await self.request(
                "GET", "/api/1/vehicles", params={"page": page, "per_page": PAGE_SIZE_VEHICLES}
            )
            body = response.json()
            items = _unwrap(body) or []
            vehicles.extend(TeslaVehicle.model_validate(item) for item in items)
            pagination = body.get("pagination") if isinstance(body, dict) else None
            if not items or len(items) < PAGE_SIZE_VEHICLES or not (pagination and pagination.get("next")):
                return vehicles
            page += 1

    async def vehicle(self, vin: str) -> TeslaVehicle:
        return TeslaVehicle.model_validate(await self._json("GET", f"/api/1/vehicles/{vin}"))

    async def wake_up(self, vin: str) -> TeslaVehicle:
        return TeslaVehicle.model_validate(
            await self._json("POST", f"/api/1/vehicles/{vin}/wake_up", category="wakes", json_body={})
        )

    async def vehicle_data(self, vin: str, endpoints: list[str]) -> dict[str, Any]:
        params = {"endpoints": ";".join(endpoints)} if endpoints else None
        body = await self._json("GET", f"/api/1/vehicles/{vin}/vehicle_data", params=params)
        return body if isinstance(body, dict) else {}

    async def service_data(self, vin: str) -> dict[str, Any]:
        body = await self._json("GET", f"/api/1/vehicles/{vin}/service_data")
        return body if isinstance(body, dict) else {}

    async def recent_alerts(self, vin: str) -> list[dict[str, Any]]:
        body = await self._json("GET", f"/api/1/vehicles/{vin}/recent_alerts")
        alerts = body.get("recent_alerts") if isinstance(body, dict) else body
        return [alert for alert in alerts or [] if isinstance(alert, dict)]

    async def warranty(self, vin: str) -> dict[str, Any]:
        body = await self._json("GET", "/api/1/dx/warranty/details", params={"vin": vin})
        return body if isinstance(body, dict) else {}

    async def charging_history(
        self, vin: str, start: datetime, end: datetime, *, concurrency: int = 1
    ) -> list[dict[str, Any]]:
        """Every session of a vehicle that started within [start, end], newest first."""
        sessions: list[dict[str, Any]] = []
        async with aclosing(self.charging_history_pages(vin, start, end, concurrency=concurrency)) as pages:
            async for page in pages:
                sessions += page
        return sessions

    async def charging_history_pages(
        self, vin: str, start: datetime, end: datetime, *, concurrency: int = 1
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """The history page by page, each session once (`sessionId` de-duplicates pages).

        With `concurrency` above 1, the pages after the first are fetched that many at a time once the
        first page's `totalResults` says how many there are, and yielded as they arrive. Close the
        iterator (`contextlib.aclosing`) to stop early: pages still in flight are cancelled.
        """
        seen: set[str] = set()

        def unseen(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            fresh = [item for item in items if str(item.get("sessionId")) not in seen]
            seen.update(str(item.get("sessionId")) for item in fresh)
            return fresh

        items, total = await self._history_page(vin, start, end, 1)
        yield unseen(items)
        page = 2
        if len(items) == PAGE_SIZE_CHARGING and concurrency > 1 and isinstance(total, int):
            last = -(-total // PAGE_SIZE_CHARGING)
            gate = asyncio.Semaphore(concurrency)

            async def fetch(number: int) -> tuple[int, list[dict[str, Any]]]:
                async with gate:
                    return number, (await self._history_page(vin, start, end, number))[0]

            tasks = [asyncio.create_task(fetch(number)) for number in range(2, last + 1)]
            full_last_page = last <= 1  # `totalResults` undercounts: there may be more than one page
            try:
                for arrived in asyncio.as_completed(tasks):
                    number, items = await arrived
                    full_last_page = full_last_page or (number == last and len(items) == PAGE_SIZE_CHARGING)
                    yield unseen(items)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            if not full_last_page:
                return
            page = last + 1  # more sessions than `totalResults` said: page on one at a time
        elif len(items) < PAGE_SIZE_CHARGING or (isinstance(total, int) and len(seen) >= total):
            return
        while True:
            items, total = await self._history_page(vin, start, end, page)
            yield unseen(items)
            if len(items) < PAGE_SIZE_CHARGING or (isinstance(total, int) and len(seen) >= total):
                return
            page += 1

    async def _history_page(
        self, vin: str, start: datetime, end: datetime, page: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        body = await self._json(
            "GET",
            "/api/1/dx/charging/history",
            params={
                "vin": vin,
                "startTime": start.isoformat(),
                "endTime": end.isoformat(),
                "pageNo": page,
                "pageSize": PAGE_SIZE_CHARGING,
                "sortBy": "chargeStartDateTime",
                "sortOrder": "DESC",
            },
        )
        items = [
            item for item in (body.get("data") if isinstance(body, dict) else None) or [] if isinstance(item, dict)
        ]
        total = body.get("totalResults") if isinstance(body, dict) else None
        return items, total if isinstance(total, int) and not isinstance(total, bool) else None

    async def invoice(self, content_id: str) -> bytes:
        response = await self.request("GET", f"/api/1/dx/charging/invoice/{content_id}")
        if not response.content.startswith(b"%PDF-"):
            raise TeslaError("Tesla's invoice is not a PDF.")
        return response.content


@dataclass
class TeslaApi:
    """Everything needed to talk to Tesla, built once by the lifespan."""

    http: httpx.AsyncClient
    endpoints: TeslaEndpoints
    auth: TeslaAuthClient
    breakers: CircuitBreakers
    default_region: str
    max_retries: int = 3
    retry_after_cap_seconds: float = 10.0
    timeout_seconds: float = 15.0

    def fleet(
        self,
        base_url: str,
        tokens: TokenSource,
        on_base_url_change: Callable[[str], Awaitable[None]] | None = None,
    ) -> TeslaFleetClient:
        return TeslaFleetClient(
            self.http,
            self.endpoints,
            base_url,
            tokens,
            breakers=self.breakers,
            max_retries=self.max_retries,
            retry_after_cap_seconds=self.retry_after_cap_seconds,
            timeout_seconds=self.timeout_seconds,
            on_base_url_change=on_base_url_change,
        )
