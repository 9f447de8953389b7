from __future__ import annotations

from carpulse.errors import Conflict, Forbidden, NotFound


class PlanNotFound(NotFound):
    """No plan has this code."""

    slug = "plan-not-found"
    title = "Plan not found"


class PlanCodeTaken(Conflict):
    """Another plan already has this code."""

    slug = "plan-code-taken"
    title = "Plan code taken"


class PlanInUse(Conflict):
    """Clients are on this plan (or it is the default): move them first."""

    slug = "plan-in-use"
    title = "Plan in use"


class DataClientNotFound(NotFound):
    """No API client account has this id."""

    slug = "data-client-not-found"
    title = "API client not found"


class ClientSuspended(Forbidden):
    """An admin suspended this API client: its keys answer nothing until it is reinstated."""

    slug = "client-suspended"
    title = "API client suspended"
