"""The dev proxy: a developer's tunnel receives the OAuth callbacks of flows started for it here.

A brand's OAuth accepts only the registered redirect URI (the deployed API), so a developer registers
their tunnel, and their local instance, which owns the flow's state and PKCE verifier, starts it with
`via_dev_proxy`. `initiate` here gets that state and code challenge (never the verifier), keeps a
single-use relay record keyed by the state, and builds the brand's authorize URL; the deployed
callback relays `code` and `state` to `<tunnel>/api/v1/{brand}/oauth/callback`, where the local
instance completes the flow. The relay target is built from the stored registration only, and the server
never calls the tunnel.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlsplit

from carpulse.connect.service import ConnectContext, connect
from carpulse.dev_proxy.errors import DevTunnelNotFound, RelayStateTaken, TunnelUrlRefused
from carpulse.dev_proxy.repository import DevTunnelRepository
from carpulse.dev_proxy.schemas import (
    DevProxyStatus,
    DevTunnel,
    DevTunnelRecord,
    InitiateOAuthRequest,
    InitiateOAuthResponse,
    RegisterRequest,
)
from carpulse.errors import NotFound
from carpulse.kit.clock import Clock
from carpulse.kit.logs import get_logger
from carpulse.provider.base import Brand, BrandInfo, OAuthPkceSignIn

log = get_logger("carpulse.dev_proxy")

# Relayed states remembered per tunnel (and revoked with the registration).
MAX_PENDING_STATES = 20

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")


@dataclass
class DevProxyContext:
    """What the dev proxy needs from the running app."""

    repository: DevTunnelRepository
    connect: ConnectContext
    clock: Clock
    allowed_suffixes: tuple[str, ...]


def sign_in_brand(connect: ConnectContext) -> Brand:
    """The brand whose OAuth flows the dev proxy relays: the one brand we connect by a redirect to its own page."""
    redirecting = [brand for brand in connect.providers if isinstance(brand.sign_in, OAuthPkceSignIn)]
    if len(redirecting) != 1:
        raise NotFound("The dev proxy relays one brand's sign-in, and this API connects none or several by redirect.")
    return redirecting[0]


def oauth_sign_in(brand: Brand) -> OAuthPkceSignIn:
    """Only a sign-in on the brand's own page comes back through a callback that can be relayed."""
    sign_in = brand.sign_in
    if not isinstance(sign_in, OAuthPkceSignIn):
        raise NotFound(f"{brand.info.label} signs in without a redirect: there is no callback to relay.")
    return sign_in


def normalized_suffixes(suffixes: list[str]) -> tuple[str, ...]:
    """Each suffix lower-cased with a leading dot, so `ngrok.app` never admits `evilngrok.app`."""
    cleaned = (suffix.strip().lower().lstrip(".") for suffix in suffixes)
    return tuple(f".{suffix}" for suffix in cleaned if suffix)


def tunnel_origin(url: str, allowed_suffixes: tuple[str, ...]) -> str:
    """The canonical `https://host` of an acceptable tunnel URL; refuses anything else with a reason."""

    def refuse(reason: str) -> TunnelUrlRefused:
        return TunnelUrlRefused(
            f"tunnel_url {reason}.",
            errors=[{"loc": ["body", "tunnel_url"], "message": reason, "type": "value_error"}],
        )

    if not url.isascii() or any(char.isspace() or not char.isprintable() or char == "\\" for char in url):
        raise refuse("must be a plain ASCII URL")
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise refuse("must use https")
    if "?" in url or "#" in url:
        raise refuse("must not carry a query or a fragment")
    if parts.path not in ("", "/"):
        raise refuse("must be an origin, without a path")
    if "@" in parts.netloc:
        raise refuse("must not carry credentials")
    host, _, port = parts.netloc.lower().partition(":")
    if port and port != "443":
        raise refuse("must use the default https port")
    if host.startswith("[") or _is_ip_address(host):
        raise refuse("must name a host, not an IP address")
    if len(host) > 253 or not _HOSTNAME.fullmatch(host):
        raise refuse("must name a valid DNS host")
    if not any(host.endswith(suffix) and len(host) > len(suffix) for suffix in allowed_suffixes):
        raise refuse("must be on an allowed tunnel host: " + ", ".join(allowed_suffixes))
    return f"https://{host}"


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.rsplit(".", 1)[-1].isdigit()  # 127.1, 0x7f.1 and other shorthand numeric forms
    return True


def relay_target(record: DevTunnelRecord, brand: BrandInfo) -> str:
    """The local instance's OAuth callback on the tunnel: the brand's mount, as on the deployed API."""
    return f"{record.tunnel_url}/api/v1/{brand.name}/oauth/callback"


class DevProxyService:
    async def register(self, context: DevProxyContext, request: RegisterRequest, registered_by: str) -> DevTunnel:
        origin = tunnel_origin(request.tunnel_url, context.allowed_suffixes)
        now = context.clock.now()
        record = DevTunnelRecord(
            name=request.name,
            tunnel_url=origin,
            registered_by=registered_by,
            created_at=now,
            expires_at=now + timedelta(seconds=request.ttl_seconds),
        )
        async with context.repository.lock():
            previous = await context.repository.get(request.name)
            if previous is not None:
                await self._revoke(context, previous)
            await context.repository.save(record, request.ttl_seconds)
        log.info(
            "dev_proxy.registered", name=record.name, host=origin.removeprefix("https://"), ttl=request.ttl_seconds
        )
        return self._public(record, request.ttl_seconds, sign_in_brand(context.connect).info)

    async def unregister(self, context: DevProxyContext, name: str) -> None:
        async with context.repository.lock():
            record = await context.repository.take(name)
            if record is None:
                raise DevTunnelNotFound(f"No dev tunnel named {name!r} is registered.")
            await self._revoke(context, record)
        log.info("dev_proxy.unregistered", name=name)

    async def status(self, context: DevProxyContext) -> DevProxyStatus:
        brand = sign_in_brand(context.connect).info
        tunnels = []
        for name in await context.repository.names():
            record = await context.repository.get(name)
            ttl = await context.repository.ttl(name)
            if record is not None and ttl is not None:
                tunnels.append(self._public(record, ttl, brand))
        return DevProxyStatus(registrations=tunnels, allowed_tunnel_suffixes=list(context.allowed_suffixes))

    async def initiate(self, context: DevProxyContext, request: InitiateOAuthRequest) -> InitiateOAuthResponse:
        """Relay the callback of the caller's flow (`state` + `code_challenge`) to the tunnel, or start our own."""
        name = request.name
        brand = sign_in_brand(context.connect)
        sign_in = oauth_sign_in(brand)
        async with context.repository.lock():
            record = await context.repository.get(name)
            ttl = await context.repository.ttl(name)
            if record is None or ttl is None or ttl < 1:
                raise DevTunnelNotFound(f"No dev tunnel named {name!r} is registered.")
            # Never outlives the registration, so an expired tunnel receives nothing.
            expires_in = max(1, min(context.connect.state_ttl_seconds, int(ttl)))
            if request.state is None or request.code_challenge is None:
                # This API's own flow: its verifier is here, so its callback is completed here.
                flow_context = replace(context.connect, state_ttl_seconds=expires_in)
                started = await connect.initiate(flow_context, brand, request.locale, None, None)
                log.info("dev_proxy.oauth_initiated", name=name, state=started.state[:8], relayed=False)
                return InitiateOAuthResponse(
                    authorization_url=started.authorization_url,
                    state=started.state,
                    expires_in=started.expires_in,
                    relay_to=None,
                )
            state = request.state
            target = relay_target(record, brand.info)
            flows = context.connect.repository
            # A state of ours is never relayed; put_relay refuses a state that already has a relay.
            taken = await flows.peek_state(state) is not None
            if taken or not await flows.put_relay(state, {"relay_to": target, "tunnel": name}, expires_in):
                raise RelayStateTaken("This OAuth state is already in use; start again on your local instance.")
            record.pending_states = [*record.pending_states, state][-MAX_PENDING_STATES:]
            await context.repository.save(record, ttl)
        url = sign_in.authorization_url(state, request.code_challenge, request.locale.value)
        log.info("dev_proxy.oauth_initiated", name=name, state=state[:8], relayed=True)
        return InitiateOAuthResponse(authorization_url=url, state=state, expires_in=expires_in, relay_to=target)

    async def _revoke(self, context: DevProxyContext, record: DevTunnelRecord) -> None:
        """Drop the relays of a registration, so their callbacks go nowhere."""
        for state in record.pending_states:
            await context.connect.repository.take_relay(state)

    @staticmethod
    def _public(record: DevTunnelRecord, ttl_seconds: float, brand: BrandInfo) -> DevTunnel:
        return DevTunnel(
            name=record.name,
            tunnel_url=record.tunnel_url,
            relay_to=relay_target(record, brand),
            created_at=record.created_at,
            expires_at=record.expires_at,
            expires_in=math.ceil(ttl_seconds),
        )


dev_proxy = DevProxyService()
