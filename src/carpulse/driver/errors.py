from __future__ import annotations

from carpulse.errors import BadRequest, Conflict, Forbidden, Unauthorized


class EmailNotAllowed(Forbidden):
    """The Google account is genuine, but its address is not on the Logbook's allowlist; nothing was created."""

    slug = "email-not-allowed"
    title = "Address not allowed"


class EmailUnverified(Forbidden):
    """Google has not verified this account's address, so it cannot be checked against the allowlist."""

    slug = "email-unverified"
    title = "E-mail address not verified by Google"


class DriverDisabled(Forbidden):
    """This driver account has been disabled."""

    slug = "driver-disabled"
    title = "Driver account disabled"


class SignInStateInvalid(BadRequest):
    """The sign-in's state is unknown, used already or expired; start signing in again."""

    slug = "sign-in-state-invalid"
    title = "Sign-in expired or already used"


class SignInBrowserMismatch(BadRequest):
    """The callback arrived in another browser than the one that started the sign-in."""

    slug = "sign-in-browser-mismatch"
    title = "Sign-in started elsewhere"


class SignInDeclined(BadRequest):
    """The person cancelled at Google, or Google refused the request; nobody was signed in."""

    slug = "sign-in-declined"
    title = "Sign-in cancelled"


class RefreshTokenInvalid(Unauthorized):
    """The refresh token is unknown, expired or revoked; sign in again."""

    slug = "invalid-refresh-token"
    title = "Invalid refresh token"


class RefreshTokenReused(Unauthorized):
    """A refresh token was used a second time: every token of that sign-in is revoked; sign in again."""

    slug = "refresh-token-reused"
    title = "Refresh token reused"


class DriverIdentityConflict(Conflict):
    """The account name this Google identity needs belongs to an account that is no driver."""

    slug = "driver-identity-conflict"
    title = "Identity held by another account"
