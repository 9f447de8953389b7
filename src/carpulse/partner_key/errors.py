from __future__ import annotations

from carpulse.errors import NotFound


class PartnerKeyMissing(NotFound):
    """No partner public key is configured on this server (`carpulse keys generate`)."""

    slug = "partner-key-missing"
    title = "No public key configured"
