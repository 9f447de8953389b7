"""Google Maps Platform failures, mapped by a table from the `status` its web services answer with."""

from __future__ import annotations

from carpulse.errors import CarPulseError


class GoogleMapsError(CarPulseError):
    """Google Maps answered with an error we cannot work around."""

    status = 502
    slug = "google-maps-error"
    title = "Google Maps returned an error"


class GoogleMapsUnavailable(GoogleMapsError):
    """Google Maps is failing or unreachable right now."""

    status = 503
    slug = "google-maps-unavailable"
    title = "Google Maps is unavailable"


class GoogleMapsRateLimited(GoogleMapsError):
    """Our Google Maps quota is used up for now (OVER_QUERY_LIMIT, OVER_DAILY_LIMIT)."""

    status = 503
    slug = "google-maps-rate-limited"
    title = "Google Maps quota exceeded"


class GoogleMapsDenied(GoogleMapsError):
    """Google refused our key (missing, invalid, API not enabled, billing off): an operator must act."""

    status = 502
    slug = "google-maps-denied"
    title = "Google Maps refused our key"


class GoogleMapsTimeout(GoogleMapsError):
    """Google Maps did not answer in time."""

    status = 504
    slug = "google-maps-timeout"
    title = "Google Maps did not answer in time"


# Geocoding and Directions `status` values; OK, ZERO_RESULTS and NOT_FOUND are answers, not errors.
STATUS_ERRORS: dict[str, type[GoogleMapsError]] = {
    "OVER_QUERY_LIMIT": GoogleMapsRateLimited,
    "OVER_DAILY_LIMIT": GoogleMapsRateLimited,
    "REQUEST_DENIED": GoogleMapsDenied,
    "INVALID_REQUEST": GoogleMapsError,
    "MAX_WAYPOINTS_EXCEEDED": GoogleMapsError,
    "MAX_ROUTE_LENGTH_EXCEEDED": GoogleMapsError,
    "UNKNOWN_ERROR": GoogleMapsUnavailable,
}


def error_for_status(status: str) -> type[GoogleMapsError]:
    return STATUS_ERRORS.get(status, GoogleMapsError)
