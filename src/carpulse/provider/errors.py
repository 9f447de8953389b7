"""What can go wrong reading a brand's data, said without naming the brand.

Products catch and document these; each brand's adapter may raise its own subclasses with their own
problem types (`BrandInfo.problems`), so a client of a brand's mount sees that brand's problems.
"""

from __future__ import annotations

from carpulse.errors import CarPulseError


class ProviderError(CarPulseError):
    """The vehicle's brand answered with an error we cannot work around."""

    status = 502
    slug = "provider-error"
    title = "The vehicle's brand returned an error"


class ProviderUnavailable(ProviderError):
    """The brand's service is failing or unreachable right now; retry in a while."""

    status = 503
    slug = "provider-unavailable"
    title = "The vehicle's brand is unavailable"


class ProviderTimeout(ProviderError):
    """The brand's service did not answer in time."""

    status = 504
    slug = "provider-timeout"
    title = "The vehicle's brand did not answer in time"


class ProviderRateLimited(ProviderError):
    """The brand is rate-limiting our calls for this account; `Retry-After` says when to try again."""

    status = 503
    slug = "provider-rate-limited"
    title = "The vehicle's brand is rate-limiting requests"


class ProviderNotRegistered(ProviderError):
    """Our application is not registered with the brand where this account lives (an operator must act)."""

    status = 502
    slug = "provider-not-registered"
    title = "Not registered with the vehicle's brand"


class ReauthorizationRequired(ProviderError):
    """The brand no longer accepts this connection (expired, revoked, password changed): connect again."""

    status = 409
    slug = "reauthorization-required"
    title = "Connect your account again"


class MissingScopes(ProviderError):
    """The account did not grant a permission this needs; connect again and allow it."""

    status = 409
    slug = "missing-scopes"
    title = "Permission missing"


class VehicleAsleep(ProviderError):
    """The vehicle is asleep or offline and did not wake within the time allowed."""

    status = 409
    slug = "vehicle-asleep"
    title = "Vehicle asleep or offline"


class ProviderVehicleNotFound(ProviderError):
    """The brand does not know this vehicle (or this document) for this account."""

    status = 404
    slug = "provider-vehicle-not-found"
    title = "Vehicle not found at its brand"


class SignInFailed(ProviderError):
    """The brand refused the authorization code, the token request or the credentials."""

    status = 400
    slug = "sign-in-failed"
    title = "Sign-in with the vehicle's brand failed"


# What a caller outside the adapter meets when a brand fails: a retry later may help with these.
TRANSIENT = (ProviderUnavailable, ProviderTimeout, ProviderRateLimited)


def asked_to_wait(exc: BaseException) -> float | None:
    """Seconds the brand asked us to wait (a 429's Retry-After), or our breaker pauses calls to it; None
    for any other error. Waiting is not failing: a caller tries again after that pause."""
    if isinstance(exc, ProviderRateLimited | ProviderUnavailable) and "Retry-After" in exc.headers:
        try:
            return max(0.0, float(exc.headers["Retry-After"]))
        except ValueError:
            return None
    return None
