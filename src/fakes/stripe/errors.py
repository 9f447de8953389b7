"""Stripe's error body (reference §2.9): `{"error": {"type", "code", "message", "param", …}}`."""

from __future__ import annotations

from typing import Any


class StripeApiError(Exception):
    """An error the fake answers with; the status picks the SDK's exception class."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # Stripe's field name
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.headers = dict(headers or {})

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://docs.stripe.com/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        return {"error": error}


def resource_missing(kind: str, identifier: str, param: str = "id") -> StripeApiError:
    return StripeApiError(404, f"No such {kind}: '{identifier}'", code="resource_missing", param=param)
