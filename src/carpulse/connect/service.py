"""Connecting a Tesla account: OAuth with state and PKCE, then a connect session with its inventory."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carpulse.connect.errors import (
    ConnectSessionNotFound,
    ConsentDeclined,
    OAuthBrowserMismatch,
    OAuthStateInvalid,
    SelectionInvalid,
)
from carpulse.connect.repository import ConnectSessionRepository, VehicleConnectionRepository
from carpulse.connect.schemas import (
    ConnectSession,
    InitiateResponse,
    Locale,
    Selection,
    SelectRequest,
    SessionState,
    Step,
)
from carpulse.kit.clock import Clock
from carpulse.kit.logs import get_logger
from carpulse.kit.secrets_box import SecretBox
from carpulse.models import VehicleConnection
from carpulse.pricing.catalog import selection_problem
from carpulse.provider.tesla.adapter import to_summary
from carpulse.provider.tesla.client import TeslaApi, TeslaFleetClient, pkce_pair, unverified_claims
from carpulse.provider.tesla.errors import TeslaReauthorizationRequired
from carpulse.provider.tesla.schemas import TokenResponse

log = get_logger("carpulse.connect")

# The browser that starts a sign-in keeps this secret (a cookie; API clients may send the header instead);
# its callback must bring it back, so a callback URL sent to someone else connects nobody (login CSRF).
BINDING_COOKIE = "carpulse_connect"
BINDING_HEADER = "X-Connect-Binding"


def new_binding(presented: str | None) -> str:
    """The browser's binding secret: the one it already holds, or a new one."""
    if presented and 40 <= len(presented) <= 64 and presented.replace("-", "").replace("_", "").isalnum():
        return presented
    return secrets.token_urlsafe(32)


def _digest(binding: str) -> str:
    return hashlib.sha256(f"connect-binding:{binding}".encode()).hexdigest()


# Refresh this long before the access token expires, so a call never starts with a dying token.
REFRESH_MARGIN = timedelta(minutes=5)


@dataclass
class ConnectContext:
    """What the connect service needs from the running app."""

    repository: ConnectSessionRepository
    tesla: TeslaApi
    box: SecretBox
    clock: Clock
    session_ttl_seconds: int
    state_ttl_seconds: int
    allowed_return_origins: frozenset[str]
    connection_days: int = 30
    sessionmaker: async_sessionmaker[AsyncSession] | None = None


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class SessionTokens:
    """Access tokens of one connection: its durable row once an order exists, else the connect session.

    Refreshes run under a lock shared by every replica and store the rotated pair (in the row first,
    then in the session) before anyone uses the new access token: Tesla's refresh tokens are single-use.
    """

    def __init__(self, context: ConnectContext, session_id: str) -> None:
        self.context = context
        self.session_id = session_id
        self._cached: tuple[str, datetime] | None = None

    async def _durable(self) -> VehicleConnection | None:
        if self.context.sessionmaker is None:
            return None
        async with self.context.sessionmaker() as db:
            return await VehicleConnectionRepository(db).get(self.session_id)

    async def _load(self) -> VehicleConnection | ConnectSession:
        found: VehicleConnection | ConnectSession | None = await self._durable()
        if found is None:
            found = await self.context.repository.get(self.session_id)
        if found is None:
            raise ConnectSessionNotFound("The connect session has expired; connect your Tesla account again.")
        return found

    def _remember(self, token: str, expires_at: datetime) -> str:
        self._cached = (token, expires_at)
        return token

    async def access_token(self) -> str:
        now = self.context.clock.now()
        if self._cached is not None and self._cached[1] - REFRESH_MARGIN > now:
            return self._cached[0]
        found = await self._load()
        token = self.context.box.decrypt(found.access_token)
        if found.access_expires_at - REFRESH_MARGIN <= now and found.refresh_token:
            return await self.refreshed_access_token(token)
        return self._remember(token, found.access_expires_at)

    async def refreshed_access_token(self, rejected: str) -> str:
        context = self.context
        async with context.repository.lock(self.session_id):
            found = await self._load()
            current = context.box.decrypt(found.access_token)
            if current != rejected:
                return self._remember(current, found.access_expires_at)  # refreshed while we waited
            if not found.refresh_token:
                raise TeslaReauthorizationRequired("Tesla asks you to sign in again.")
            tokens = await context.tesla.auth.refresh(context.box.decrypt(found.refresh_token))
            expires_at = context.clock.now() + timedelta(seconds=tokens.expires_in)
            await self._store_durable(tokens, expires_at)
            session = await context.repository.get(self.session_id)
            if session is not None:
                _apply_tokens(session, tokens, context)
                await context.repository.save_until_expiry(session, context.clock.now())
            log.info("connect.tokens_refreshed", session=self.session_id[:8])
            return self._remember(tokens.access_token, expires_at)

    async def _store_durable(self, tokens: TokenResponse, expires_at: datetime) -> None:
        if self.context.sessionmaker is None:
            return
        async with self.context.sessionmaker() as db:
            row = await VehicleConnectionRepository(db).get_for_update(self.session_id)
            if row is None:
                return
            row.access_token = self.context.box.encrypt(tokens.access_token)
            if tokens.refresh_token:
                row.refresh_token = self.context.box.encrypt(tokens.refresh_token)
            row.access_expires_at = expires_at
            await db.commit()


def _apply_tokens(session: ConnectSession, tokens: TokenResponse, context: ConnectContext) -> None:
    session.access_token = context.box.encrypt(tokens.access_token)
    if tokens.refresh_token:
        session.refresh_token = context.box.encrypt(tokens.refresh_token)
    session.access_expires_at = context.clock.now() + timedelta(seconds=tokens.expires_in)
    claims = unverified_claims(tokens.access_token)
    scopes = claims.get("scp")
    if isinstance(scopes, list):
        session.scopes = [str(scope) for scope in scopes]
    if claims.get("sub") and session.customer_key is None:
        session.customer_key = hashlib.sha256(f"tesla:{claims['sub']}".encode()).hexdigest()[:32]


class ConnectService:
    async def initiate(
        self,
        context: ConnectContext,
        locale: Locale,
        return_url: str | None,
        binding: str | None,
        *,
        via_dev_proxy: bool = False,
    ) -> InitiateResponse:
        """Store the state (bound to `binding`) and PKCE verifier; the answer is the authorize URL.

        `binding` None: an unbound flow, only for the dev proxy (`via_dev_proxy`: a deployed API's dev
        proxy relays the callback to a developer's tunnel, whose browser cookies differ), which never
        runs in production.
        """
        if return_url is not None and origin_of(return_url) not in context.allowed_return_origins:
            raise SelectionInvalid("return_url must be on one of our allowed origins.", field="return_url")
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        await context.repository.put_state(
            state,
            {
                "verifier": verifier,
                "locale": locale.value,
                "return_url": return_url,
                "binding": None if binding is None else _digest(binding),
            },
            context.state_ttl_seconds,
        )
        challenge = pkce_pair(verifier)
        url = context.tesla.auth.authorization_url(state, challenge, locale.value)
        return InitiateResponse(
            authorization_url=url,
            state=state,
            expires_in=context.state_ttl_seconds,
            code_challenge=challenge if via_dev_proxy else None,
            binding=binding,
        )

    # --- dev proxy relay (carpulse.dev_proxy) ---
    async def relay(
        self,
        context: ConnectContext,
        *,
        code: str | None,
        state: str | None,
        error: str | None,
        error_description: str | None,
    ) -> str | None:
        """Where a dev-proxy flow's callback goes on, its relay record taken (single use); None: complete it here."""
        # Only relay records are looked at (an ordinary state is left to `complete`). The take decides
        # a race between two hits: the loser completes here and is refused, as no state of ours matches.
        relay = await context.repository.take_relay(state) if state else None
        relay_to = relay.get("relay_to") if relay else None
        if not relay_to or not state:
            return None
        query = {"code": code, "state": state, "error": error, "error_description": error_description}
        log.info("connect.callback_relayed", state=state[:8])
        return f"{relay_to}?{urlencode({key: value for key, value in query.items() if value is not None})}"

    # --- end dev proxy relay ---

    async def complete(
        self,
        context: ConnectContext,
        *,
        code: str | None,
        state: str | None,
        error: str | None,
        error_description: str | None,
        binding: str | None = None,
    ) -> ConnectSession:
        """Turn Tesla's callback into a connect session holding the account's vehicles."""
        pending = await context.repository.take_state(state) if state else None
        if error:
            log.info("connect.consent_declined", error=error[:64])
            reason = (error_description or error)[:200]
            raise ConsentDeclined(f"Tesla reports: {reason}. Nothing was connected; you can start again.")
        if pending is None:
            raise OAuthStateInvalid("This sign-in link was already used or has expired; start the connection again.")
        expected = pending.get("binding")
        if expected is not None and (binding is None or not hmac.compare_digest(_digest(binding), expected)):
            # The state is spent: whoever forwarded this link cannot retry it elsewhere either.
            log.warning("connect.callback_from_another_browser", state=(state or "")[:8])
            raise OAuthBrowserMismatch(
                "This sign-in was started in another browser. Nothing was connected; start the connection again here."
            )
        if not code:
            raise OAuthStateInvalid("Tesla's answer carries no authorization code; start the connection again.")

        tesla = context.tesla
        default_base = tesla.endpoints.fleet_base_urls[tesla.default_region]
        tokens = await tesla.auth.exchange_code(code, pending["verifier"], audience=default_base)
        # The token's `ou_code` is only a hint (seen wrong); a wrong guess costs one 421, which the
        # client follows, instead of a /users/region call for everyone.
        hint = str(unverified_claims(tokens.access_token).get("ou_code", "")).lower()
        region = hint if hint in tesla.endpoints.fleet_base_urls else tesla.default_region
        now = context.clock.now()
        session = ConnectSession(
            id=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(seconds=context.session_ttl_seconds),
            locale=Locale(pending["locale"]),
            return_url=pending.get("return_url"),
            region=region,
            fleet_base_url=tesla.endpoints.fleet_base_urls[region],
            access_token="",
            access_expires_at=now,
        )
        _apply_tokens(session, tokens, context)
        await context.repository.save(session, context.session_ttl_seconds)

        fleet = self.fleet_client(context, session)
        vehicles = await fleet.vehicles()
        session = await self._require(context, session.id)
        session.fleet_base_url = fleet.base_url
        session.region = fleet.region if fleet.region != "unknown" else session.region
        session.vehicles = [to_summary(vehicle) for vehicle in vehicles]
        session.step = Step.select_vehicles
        await context.repository.save(session, context.session_ttl_seconds)
        log.info("connect.session_created", session=session.id[:8], region=session.region, vehicles=len(vehicles))
        return session

    def fleet_client(self, context: ConnectContext, session: ConnectSession | VehicleConnection) -> TeslaFleetClient:
        """A Fleet client on the connection's tokens; a region move (421) is remembered where it lives."""
        connection_id = session.id

        async def remember_base_url(base_url: str) -> None:
            region = context.tesla.endpoints.region_of(base_url)
            current = await context.repository.get(connection_id)
            if current is not None:
                current.fleet_base_url = base_url
                current.region = region or current.region
                await context.repository.save_until_expiry(current, context.clock.now())
            if context.sessionmaker is not None:
                async with context.sessionmaker() as db:
                    row = await VehicleConnectionRepository(db).get_for_update(connection_id)
                    if row is not None:
                        row.fleet_base_url = base_url
                        row.region = region or row.region
                        await db.commit()

        return context.tesla.fleet(session.fleet_base_url, SessionTokens(context, connection_id), remember_base_url)

    async def keep(self, db: AsyncSession, session: ConnectSession) -> VehicleConnection:
        """Copy the connect session into a durable connection (at checkout); the row then holds the tokens."""
        row = await VehicleConnectionRepository(db).get(session.id)
        if row is not None:
            return row  # its tokens may be newer than the session's (a job refreshed them)
        row = VehicleConnection(
            id=session.id,
            provider=session.provider,
            region=session.region,
            fleet_base_url=session.fleet_base_url,
            access_token=session.access_token,
            refresh_token=session.refresh_token,
            access_expires_at=session.access_expires_at,
            scopes=list(session.scopes),
            locale=session.locale.value,
            vehicles=[vehicle.model_dump(mode="json") for vehicle in session.vehicles],
        )
        db.add(row)
        await db.flush()
        return row

    async def live(self, context: ConnectContext, session_id: str) -> ConnectSession | None:
        """The session while it lives: its own `expires_at` decides, whatever the store still holds."""
        session = await context.repository.get(session_id)
        if session is None or session.expires_at <= context.clock.now():
            return None
        return session

    async def _require(self, context: ConnectContext, session_id: str) -> ConnectSession:
        session = await self.live(context, session_id)
        if session is None:
            raise ConnectSessionNotFound("No such connect session, or it has expired.")
        return session

    async def get(self, context: ConnectContext, session_id: str) -> ConnectSession:
        session = await self._require(context, session_id)
        if session.step is Step.connecting:
            raise ConnectSessionNotFound("No such connect session, or it has expired.")
        return session

    async def state(self, context: ConnectContext, session_id: str) -> SessionState:
        session = await self.get(context, session_id)
        remaining = max(0, int((session.expires_at - context.clock.now()).total_seconds()))
        return SessionState(
            session_id=session.id,
            provider=session.provider,
            step=session.step,
            locale=session.locale,
            region=session.region,
            vehicle_count=len(session.vehicles),
            selection=session.selection,
            order_id=session.order_id,
            expires_at=session.expires_at,
            expires_in=remaining,
            scopes=session.scopes,
        )

    async def select(self, context: ConnectContext, session_id: str, request: SelectRequest) -> SessionState:
        session = await self.get(context, session_id)
        known = {vehicle.vin for vehicle in session.vehicles}
        vins = list(dict.fromkeys(vin.strip().upper() for vin in request.vins))
        unknown = [vin for vin in vins if vin not in known]
        if unknown:
            raise SelectionInvalid(
                f"{len(unknown)} selected VIN(s) are not vehicles of this account.", field="vins", unknown=unknown
            )
        problem = selection_problem(request.package, len(vins))
        if problem:
            raise SelectionInvalid(problem, field="package")
        if session.order_id is not None:
            raise SelectionInvalid("This session already has an order; its selection can no longer change.")
        session.selection = Selection(vins=vins, package=request.package)
        session.step = Step.checkout
        if not await context.repository.save_until_expiry(session, context.clock.now()):
            raise ConnectSessionNotFound("No such connect session, or it has expired.")
        return await self.state(context, session_id)


connect = ConnectService()
