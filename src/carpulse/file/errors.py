from __future__ import annotations

from carpulse.errors import Forbidden


class LinkInvalid(Forbidden):
    """The download link was altered or has expired; ask for a new one."""

    slug = "link-invalid"
    title = "Download link invalid or expired"
