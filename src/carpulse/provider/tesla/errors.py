"""Tesla's failures, mapped by a table to what our API answers."""

from __future__ import annotations

from carpulse.provider.errors import (
    MissingScopes,
    ProviderError,
    ProviderNotRegistered,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    ProviderVehicleNotFound,
    ReauthorizationRequired,
    SignInFailed,
    VehicleAsleep,
)


class TeslaError(ProviderError):
    """Tesla answered with an error we cannot work around."""

    status = 502
    slug = "tesla-error"
    title = "Tesla returned an error"


class TeslaUnavailable(TeslaError, ProviderUnavailable):
    """Tesla is failing or unreachable right now; retry in a while."""

    status = 503
    slug = "tesla-unavailable"
    title = "Tesla is unavailable"


class TeslaTimeout(TeslaError, ProviderTimeout):
    """Tesla did not answer in time."""

    status = 504
    slug = "tesla-timeout"
    title = "Tesla did not answer in time"


class TeslaRateLimited(TeslaError, ProviderRateLimited):
    """Tesla is rate-limiting our calls for this account; `Retry-After` says when to try again."""

    status = 503
    slug = "tesla-rate-limited"
    title = "Tesla is rate-limiting requests"


class TeslaNotRegistered(TeslaError, ProviderNotRegistered):
    """Our application is not registered in this Tesla region (an operator must register it)."""

    status = 502
    slug = "tesla-not-registered"
    title = "Not registered with Tesla in this region"


class TeslaReauthorizationRequired(TeslaError, ReauthorizationRequired):
    """Tesla no longer accepts this connection (expired, revoked, password changed): connect again."""

    status = 409
    slug = "tesla-reauthorization-required"
    title = "Reconnect your Tesla account"


class TeslaMissingScopes(TeslaError, MissingScopes):
    """The Tesla account did not grant a permission this needs; connect again and allow it."""

    status = 409
    slug = "tesla-missing-scopes"
    title = "Tesla permission missing"


class TeslaVehicleNotFound(TeslaError, ProviderVehicleNotFound):
    """Tesla does not know this vehicle for this account."""

    status = 404
    slug = "tesla-vehicle-not-found"
    title = "Vehicle not found at Tesla"


class TeslaOAuthError(TeslaError, SignInFailed):
    """Tesla refused the authorization code or the token request."""

    status = 400
    slug = "tesla-oauth-failed"
    title = "Tesla sign-in failed"


# Status → error for answers that retries and refreshes did not fix.
STATUS_ERRORS: dict[int, type[ProviderError]] = {
    401: TeslaReauthorizationRequired,
    403: TeslaMissingScopes,
    404: TeslaVehicleNotFound,
    408: VehicleAsleep,
    412: TeslaNotRegistered,
    429: TeslaRateLimited,
    500: TeslaUnavailable,
    502: TeslaUnavailable,
    503: TeslaUnavailable,
    504: TeslaTimeout,
}


def error_for_status(status: int) -> type[ProviderError]:
    return STATUS_ERRORS.get(status, TeslaUnavailable if status >= 500 else TeslaError)


# Each neutral error a product raises or documents, as Tesla's mount has always answered it.
TESLA_PROBLEMS: dict[type[ProviderError], type[ProviderError]] = {
    ProviderError: TeslaError,
    ProviderUnavailable: TeslaUnavailable,
    ProviderTimeout: TeslaTimeout,
    ProviderRateLimited: TeslaRateLimited,
    ProviderNotRegistered: TeslaNotRegistered,
    ReauthorizationRequired: TeslaReauthorizationRequired,
    MissingScopes: TeslaMissingScopes,
    ProviderVehicleNotFound: TeslaVehicleNotFound,
    SignInFailed: TeslaOAuthError,
}
