"""Connecting a vehicle account of any brand: OAuth with state and PKCE, or the owner's credentials, then a
connect session holding the account's inventory."""

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
from carpulse.kit.oauth import pkce_challenge
from carpulse.kit.secrets_box import SecretBox
from carpulse.models import VehicleConnection
from carpulse.pricing.catalog import selection_problem
from carpulse.provider.base import (
    Brand,
    CredentialsSignIn,
    GrantedTokens,
    OAuthPkceSignIn,
    Place,
    ReadingPolicy,
    VehicleDataProvider,
)
from carpulse.provider.errors import ReauthorizationRequired
from carpulse.provider.registry import ProviderRegistry

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
    providers: ProviderRegistry
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
    then in the session) before anyone uses the new access token: a brand's refresh token may be single-use.
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
            raise ConnectSessionNotFound("The connect session has expired; connect your account again.")
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
            brand = context.providers.get(found.provider)
            if not found.refresh_token:
                raise brand.info.problem(ReauthorizationRequired)(f"{brand.info.label} asks you to sign in again.")
            tokens = await brand.sign_in.refresh(context.box.decrypt(found.refresh_token))
            expires_at = context.clock.now() + timedelta(seconds=tokens.expires_in)
            await self._store_durable(tokens, expires_at)
            session = await context.repository.get(self.session_id)
            if session is not None:
                _apply_tokens(session, tokens, context)
                await context.repository.save_until_expiry(session, context.clock.now())
            log.info("connect.tokens_refreshed", session=self.session_id[:8])
            return self._remember(tokens.access_token, expires_at)

    async def _store_durable(self, tokens: GrantedTokens, expires_at: datetime) -> None:
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


def _apply_tokens(session: ConnectSession, tokens: GrantedTokens, context: ConnectContext) -> None:
    session.access_token = context.box.encrypt(tokens.access_token)
    if tokens.refresh_token:
        session.refresh_token = context.box.encrypt(tokens.refresh_token)
    session.access_expires_at = context.clock.now() + timedelta(seconds=tokens.expires_in)
    if tokens.scopes is not None:
        session.scopes = list(tokens.scopes)
    if tokens.account_id and session.customer_key is None:
        account = f"{session.provider}:{tokens.account_id}"
        session.customer_key = hashlib.sha256(account.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Connection:
    """What opening a provider needs of a connect session or a kept connection, read once (a row's attributes
    must not be read after its database session moved on)."""

    id: str
    provider: str
    region: str
    base_url: str
    scopes: tuple[str, ...]

    @classmethod
    def of(cls, found: ConnectSession | VehicleConnection) -> Connection:
        return cls(found.id, found.provider, found.region, found.fleet_base_url, tuple(found.scopes))


def oauth_sign_in(brand: Brand) -> OAuthPkceSignIn:
    if not isinstance(brand.sign_in, OAuthPkceSignIn):
        raise SelectionInvalid(f"{brand.info.label} accounts connect with their sign-in, not a redirect.")
    return brand.sign_in


class ConnectService:
    async def initiate(
        self,
        context: ConnectContext,
        brand: Brand,
        locale: Locale,
        return_url: str | None,
        binding: str | None,
        *,
        via_dev_proxy: bool = False,
    ) -> InitiateResponse:
        """Store the state (bound to `binding`) and PKCE verifier; the answer is the brand's authorize URL.

        `binding` None: an unbound flow, only for the dev proxy (`via_dev_proxy`: a deployed API's dev
        proxy relays the callback to a developer's tunnel, whose browser cookies differ), which never
        runs in production.
        """
        sign_in = oauth_sign_in(brand)
        self._check_return_url(context, return_url)
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        await context.repository.put_state(
            state,
            {
                "brand": brand.info.name,
                "verifier": verifier,
                "locale": locale.value,
                "return_url": return_url,
                "binding": None if binding is None else _digest(binding),
            },
            context.state_ttl_seconds,
        )
        challenge = pkce_challenge(verifier)
        url = sign_in.authorization_url(state, challenge, locale.value)
        return InitiateResponse(
            authorization_url=url,
            state=state,
            expires_in=context.state_ttl_seconds,
            code_challenge=challenge if via_dev_proxy else None,
            binding=binding,
        )

    @staticmethod
    def _check_return_url(context: ConnectContext, return_url: str | None) -> None:
        if return_url is not None and origin_of(return_url) not in context.allowed_return_origins:
            raise SelectionInvalid("return_url must be on one of our allowed origins.", field="return_url")

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
        brand: Brand,
        *,
        code: str | None,
        state: str | None,
        error: str | None,
        error_description: str | None,
        binding: str | None = None,
    ) -> ConnectSession:
        """Turn the brand's OAuth callback into a connect session holding the account's vehicles."""
        sign_in = oauth_sign_in(brand)
        label = brand.info.label
        pending = await context.repository.take_state(state) if state else None
        if error:
            log.info("connect.consent_declined", error=error[:64])
            reason = (error_description or error)[:200]
            raise ConsentDeclined(f"{label} reports: {reason}. Nothing was connected; you can start again.")
        if pending is None or pending.get("brand", brand.info.name) != brand.info.name:
            raise OAuthStateInvalid("This sign-in link was already used or has expired; start the connection again.")
        expected = pending.get("binding")
        if expected is not None and (binding is None or not hmac.compare_digest(_digest(binding), expected)):
            # The state is spent: whoever forwarded this link cannot retry it elsewhere either.
            log.warning("connect.callback_from_another_browser", state=(state or "")[:8])
            raise OAuthBrowserMismatch(
                "This sign-in was started in another browser. Nothing was connected; start the connection again here."
            )
        if not code:
            raise OAuthStateInvalid(f"{label}'s answer carries no authorization code; start the connection again.")
        tokens = await sign_in.exchange_code(code, pending["verifier"])
        return await self._connected(context, brand, tokens, Locale(pending["locale"]), pending.get("return_url"))

    async def sign_in_with_credentials(
        self,
        context: ConnectContext,
        brand: Brand,
        username: str,
        password: str,
        locale: Locale,
        return_url: str | None,
    ) -> ConnectSession:
        """A brand that takes its owner's credentials: they go to the brand once; only its tokens are kept."""
        if not isinstance(brand.sign_in, CredentialsSignIn):
            raise SelectionInvalid(f"{brand.info.label} accounts connect on {brand.info.label}'s own sign-in page.")
        self._check_return_url(context, return_url)
        tokens = await brand.sign_in.sign_in(username, password)
        return await self._connected(context, brand, tokens, locale, return_url)

    async def _connected(
        self,
        context: ConnectContext,
        brand: Brand,
        tokens: GrantedTokens,
        locale: Locale,
        return_url: str | None,
    ) -> ConnectSession:
        place = brand.place_for(tokens)
        now = context.clock.now()
        session = ConnectSession(
            id=secrets.token_urlsafe(32),
            provider=brand.info.name,
            created_at=now,
            expires_at=now + timedelta(seconds=context.session_ttl_seconds),
            locale=locale,
            return_url=return_url,
            region=place.region,
            fleet_base_url=place.base_url,
            access_token="",
            access_expires_at=now,
        )
        _apply_tokens(session, tokens, context)
        await context.repository.save(session, context.session_ttl_seconds)

        provider = self.open_provider(context, session)
        vehicles = await provider.list_vehicles()
        session = await self._require(context, session.id)
        found = provider.place()
        session.fleet_base_url = found.base_url
        session.region = found.region
        session.vehicles = vehicles
        session.step = Step.select_vehicles
        await context.repository.save(session, context.session_ttl_seconds)
        log.info(
            "connect.session_created",
            session=session.id[:8],
            brand=brand.info.name,
            region=session.region,
            vehicles=len(vehicles),
        )
        return session

    def open_provider(
        self,
        context: ConnectContext,
        connection: ConnectSession | VehicleConnection | Connection,
        policy: ReadingPolicy | None = None,
    ) -> VehicleDataProvider:
        """The brand's provider on the connection's tokens; a move of the account's data is remembered."""
        session = connection if isinstance(connection, Connection) else Connection.of(connection)
        connection_id = session.id

        async def remember_place(place: Place) -> None:
            current = await context.repository.get(connection_id)
            if current is not None:
                current.fleet_base_url = place.base_url
                current.region = place.region
                await context.repository.save_until_expiry(current, context.clock.now())
            if context.sessionmaker is not None:
                async with context.sessionmaker() as db:
                    row = await VehicleConnectionRepository(db).get_for_update(connection_id)
                    if row is not None:
                        row.fleet_base_url = place.base_url
                        row.region = place.region
                        await db.commit()

        brand = context.providers.get(session.provider)
        return brand.open(
            brand.place_of(session.base_url, session.region),
            SessionTokens(context, connection_id),
            scopes=list(session.scopes),
            on_place_change=remember_place,
            policy=policy,
        )

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

    async def get(self, context: ConnectContext, session_id: str, *, brand: str | None = None) -> ConnectSession:
        """A connected session; on a brand's mount (`brand`), only a session of that brand."""
        session = await self._require(context, session_id)
        if session.step is Step.connecting or (brand is not None and session.provider != brand):
            raise ConnectSessionNotFound("No such connect session, or it has expired.")
        return session

    async def state(self, context: ConnectContext, session_id: str, *, brand: str | None = None) -> SessionState:
        session = await self.get(context, session_id, brand=brand)
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

    async def select(
        self, context: ConnectContext, session_id: str, request: SelectRequest, *, brand: str | None = None
    ) -> SessionState:
        session = await self.get(context, session_id, brand=brand)
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
