"""PayPal's error bodies (reference §3.7) and the OAuth-style bodies of the token and bearer checks."""

from __future__ import annotations

import secrets

from fastapi.responses import JSONResponse

_NAMES = {
    400: ("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema."),
    401: ("AUTHENTICATION_FAILURE", "Authentication failed due to invalid authentication credentials."),
    403: ("NOT_AUTHORIZED", "Authorization failed due to insufficient permissions."),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    409: ("RESOURCE_CONFLICT", "The server has detected a conflict while processing this request."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
    ),
    429: ("RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error has occurred."),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable."),
}


def debug_id() -> str:
    return secrets.token_hex(7)


class PayPalApiError(Exception):
    """An answer with PayPal's error body: `issue` goes into `details[0]`."""

    def __init__(
        self,
        status: int,
        issue: str,
        description: str,
        *,
        field: str | None = None,
        value: str | None = None,
        location: str = "body",
    ) -> None:
        super().__init__(f"{status} {issue}: {description}")
        self.status = status
        self.issue = issue
        self.description = description
        self.field = field
        self.value = value
        self.location = location

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        name, message = _NAMES.get(self.status, ("INTERNAL_SERVER_ERROR", "An internal server error has occurred."))
        detail: dict[str, str] = {"issue": self.issue, "description": self.description}
        if self.field is not None:
            detail |= {"field": self.field, "location": self.location}
        if self.value is not None:
            detail["value"] = self.value
        ident = debug_id()
        body = {
            "name": name,
            "message": message,
            "debug_id": ident,
            "details": [detail],
            "links": [
                {
                    "href": f"https://developer.paypal.com/docs/api/orders/v2/#error-{self.issue}",
                    "rel": "information_link",
                    "method": "GET",
                }
            ],
        }
        return JSONResponse(body, status_code=self.status, headers={"PayPal-Debug-Id": ident, **(headers or {})})


def not_found(resource: str, ident: str) -> PayPalApiError:
    return PayPalApiError(
        404,
        "INVALID_RESOURCE_ID",
        f"Specified resource ID does not exist. Please check the resource ID and try again. ({resource})",
        field=f"{resource}_id",
        value=ident,
        location="path",
    )


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)
