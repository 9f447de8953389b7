"""ASGI middleware: request log line, security headers, last-resort 500 problem, body size limit."""

from __future__ import annotations

import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carpulse.errors import InternalError, PayloadTooLarge, problem_response
from carpulse.kit.logs import get_logger

log = get_logger("carpulse.http")

_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# The docs pages run from our vendored files (web/static): scripts from our origin only, no CDN, no
# inline script. ReDoc also styles its components through injected <style> elements and builds its
# search index in a worker made from a blob; Swagger UI needs neither.
_SWAGGER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_REDOC_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_DOCS_CSPS = {
    "/docs": _SWAGGER_CSP,
    "/docs/oauth2-redirect": _SWAGGER_CSP,
    "/api/v1/docs": _SWAGGER_CSP,
    "/redoc": _REDOC_CSP,
    "/api/v1/redoc": _REDOC_CSP,
}
# The sandbox's consent page styles itself inline and posts its form back to itself.
_SANDBOX_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


def security_headers(path: str, https: bool) -> list[tuple[bytes, bytes]]:
    if path in _DOCS_CSPS:
        csp = _DOCS_CSPS[path]
    elif path.startswith("/_sandbox/"):
        csp = _SANDBOX_CSP
    else:
        csp = _API_CSP
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"content-security-policy", csp.encode()),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


class RequestContextMiddleware:
    """One `http.request_completed` line per request, security headers on every response,
    and a problem document instead of a bare 500 when something unexpected escapes."""

    def __init__(self, app: ASGIApp, force_https_headers: bool = False) -> None:
        self.app = app
        self.force_https_headers = force_https_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope.get("path", "")
        https = self.force_https_headers or scope.get("scheme") == "https"
        extra_headers = security_headers(path, https)
        status: dict[str, Any] = {"code": None}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    header for header in extra_headers if header[0] not in present
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except ClientDisconnect:
            # The client hung up (a timeout of its own) before its request was read: nobody to answer, and
            # no fault of ours to report as one.
            log.info("http.client_disconnected", method=scope.get("method"), path=path)
        except Exception:
            log.exception("http.unhandled_error", method=scope.get("method"), path=path)
            if status["code"] is not None:
                raise
            response = problem_response(
                None,
                InternalError,
                "An unexpected error occurred; quote the request id when reporting it.",
            )
            await response(scope, receive, send_with_headers)
        finally:
            log.info(
                "http.request_completed",
                method=scope.get("method"),
                path=path,
                status=status["code"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )


class RequestBodyTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI passes HTTP exceptions to our problem handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds the limit of {limit} bytes.")


class BodySizeLimitMiddleware:
    """Refuse bodies over `max_bytes`: early by Content-Length, else while they stream in.

    Paths ending in one of `upload_suffixes` (photo uploads) may carry up to `max_upload_bytes`.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        max_upload_bytes: int | None = None,
        upload_suffixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes or max_bytes
        self.upload_suffixes = upload_suffixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        uploading = bool(self.upload_suffixes) and str(scope.get("path", "")).endswith(self.upload_suffixes)
        max_bytes = self.max_upload_bytes if uploading else self.default_max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > max_bytes:
                    response = problem_response(
                        None, PayloadTooLarge, f"The request body exceeds the limit of {max_bytes} bytes."
                    )
                    await response(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise RequestBodyTooLarge(max_bytes)
            return message

        await self.app(scope, limited_receive, send)
