from __future__ import annotations

from carpulse.errors import BadRequest, NotFound, ValidationFailed


class OAuthStateInvalid(BadRequest):
    """The sign-in link was already used, has expired, or is not ours; start the connection again."""

    slug = "oauth-state-invalid"
    title = "Sign-in link expired or already used"


class OAuthBrowserMismatch(BadRequest):
    """The callback arrived in a browser (or client) other than the one that started the sign-in."""

    slug = "oauth-browser-mismatch"
    title = "Sign-in started elsewhere"


class ConsentDeclined(BadRequest):
    """The account owner declined access at the brand's sign-in; nothing was connected."""

    slug = "consent-declined"
    title = "Access was declined"


class ConnectSessionNotFound(NotFound):
    """No such connect session: the id is wrong, belongs to someone else, or the session expired."""

    slug = "connect-session-not-found"
    title = "Connect session not found"


class SelectionInvalid(ValidationFailed):
    """The selected vehicles or package cannot be ordered together."""

    slug = "selection-invalid"
    title = "Selection not possible"
