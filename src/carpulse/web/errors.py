from __future__ import annotations

from carpulse.errors import NotFound


class AssetNotFound(NotFound):
    """No static file at this URL: static files are served only under their content-hashed names."""

    slug = "asset-not-found"
    title = "Static file not found"
