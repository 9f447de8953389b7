from __future__ import annotations

from carpulse.errors import Forbidden, Unauthorized


class InvalidCredentials(Unauthorized):
    """The username or the password is wrong (we do not say which)."""

    slug = "invalid-credentials"
    title = "Invalid credentials"


class EmailUnconfirmed(Unauthorized):
    """The password is right, but the account's e-mail address is not confirmed yet."""

    slug = "email-unconfirmed"
    title = "E-mail address not confirmed"


class InvalidToken(Unauthorized):
    """The bearer token is missing, malformed, expired, or not ours."""

    slug = "invalid-token"
    title = "Invalid or expired token"


class AdminRequired(Forbidden):
    """Only an admin account may do this."""

    slug = "admin-required"
    title = "Admin role required"


class DriverRequired(Forbidden):
    """Only a Logbook driver (signed in with Google) may do this."""

    slug = "driver-required"
    title = "Driver sign-in required"
