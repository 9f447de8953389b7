from __future__ import annotations

from carpulse.errors import Conflict, NotFound, ValidationFailed


class TunnelUrlRefused(ValidationFailed):
    """The tunnel URL is not an https origin on an allowed tunnel host (see `allowed_tunnel_suffixes`)."""

    slug = "tunnel-url-refused"
    title = "Tunnel URL not allowed"


class DevTunnelNotFound(NotFound):
    """No dev tunnel is registered under this name, or its registration has expired."""

    slug = "dev-tunnel-not-found"
    title = "Dev tunnel not found"


class RelayStateTaken(Conflict):
    """This OAuth state already has a relay, or belongs to a flow of this API; start again on your instance."""

    slug = "dev-proxy-state-taken"
    title = "OAuth state already in use"
