"""What goes wrong with Google sign-in, as our problem types."""

from __future__ import annotations

from carpulse.errors import BadRequest, CarPulseError, DependencyUnavailable, Unauthorized


class InvalidIdToken(Unauthorized):
    """The Google ID token is forged, expired, for another application, or not Google's; `detail` says which,
    in general terms."""

    slug = "invalid-id-token"
    title = "Invalid Google ID token"


class GoogleSignInFailed(BadRequest):
    """Google refused the sign-in code (used already, expired, or not from this sign-in); sign in again."""

    slug = "google-sign-in-failed"
    title = "Google sign-in failed"


class GoogleError(CarPulseError):
    """Google answered in a way we cannot use (our client's registration is wrong, or its answer is)."""

    status = 502
    slug = "google-error"
    title = "Google returned an error"


class GoogleUnavailable(DependencyUnavailable):
    """Google's sign-in service is failing or unreachable, and we hold nothing to verify with; retry soon."""

    slug = "google-unavailable"
    title = "Google sign-in is unavailable"


class GoogleTimeout(CarPulseError):
    """Google did not answer in time."""

    status = 504
    slug = "google-timeout"
    title = "Google did not answer in time"
