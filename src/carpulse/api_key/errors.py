from __future__ import annotations

from carpulse.errors import Forbidden, NotFound, Unauthorized


class InvalidApiKey(Unauthorized):
    """The API key is malformed, truncated, for another environment, unknown or revoked (`detail` says which)."""

    slug = "invalid-api-key"
    title = "Invalid API key"


class ApiClientRequired(Forbidden):
    """Only a Data API client account (or its key) may do this."""

    slug = "api-client-required"
    title = "API client account required"


class ApiKeyNotFound(NotFound):
    """No such key among the caller's."""

    slug = "api-key-not-found"
    title = "API key not found"
