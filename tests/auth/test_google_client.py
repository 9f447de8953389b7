"""The Google OIDC client against the Google fake, on a clock the tests move: caching, refetching, verification."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from carpulse.auth.google.client import GoogleClientConfig, GoogleIdentity, max_age_seconds
from carpulse.auth.google.errors import GoogleUnavailable, InvalidIdToken
from carpulse.kit.clock import FrozenClock
from fakes.google import Forgery, GoogleClient, GoogleFake

ISSUER = "http://google.test"
WEB = GoogleClient("web.apps.googleusercontent.com", "secret", ("http://api.test/callback",))
IOS = GoogleClient("ios.apps.googleusercontent.com")
CERTS = "/oauth2/v3/certs"


class Switchable(httpx.AsyncBaseTransport):
    """The fake behind a switch: `down` answers 503 for everything, as an outage would."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(503, json={"error": "backendError"})
        return await self.inner.handle_async_request(request)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def fake(clock: FrozenClock) -> GoogleFake:
    return GoogleFake(clients=[WEB, IOS], issuer=ISSUER, clock=clock.now)


@pytest.fixture
def transport(fake: GoogleFake) -> Switchable:
    return Switchable(fake.app)


def config(issuer_url: str = ISSUER, **changes: float) -> GoogleClientConfig:
    values: dict[str, float] = {"jwks_refetch_min_seconds": 30.0, "clock_skew_seconds": 60, **changes}
    return GoogleClientConfig(
        discovery_url=f"{issuer_url}/.well-known/openid-configuration",
        audiences=(WEB.client_id, IOS.client_id),
        web_client_id=WEB.client_id,
        web_client_secret="secret",
        redirect_uri="http://api.test/callback",
        jwks_refetch_min_seconds=values["jwks_refetch_min_seconds"],
        clock_skew_seconds=int(values["clock_skew_seconds"]),
    )


@pytest.fixture
async def google(transport: Switchable, clock: FrozenClock) -> AsyncIterator[GoogleIdentity]:
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        yield GoogleIdentity(http, config(), clock)


class TestVerification:
    async def test_a_genuine_token_gives_its_claims(self, google: GoogleIdentity, fake: GoogleFake) -> None:
        claims = await google.verify_id_token(fake.mint_id_token("alice"))

        assert claims.email == "alice@example.com"
        assert claims.email_verified is True
        assert claims.name == "Alice Driver"

    async def test_the_web_flow_nonce_must_match(self, google: GoogleIdentity, fake: GoogleFake) -> None:
        token = fake.mint_id_token("alice", WEB.client_id, nonce="n-1")

        assert (await google.verify_id_token(token, nonce="n-1")).sub
        with pytest.raises(InvalidIdToken, match="nonce"):
            await google.verify_id_token(token, nonce="n-2")
        with pytest.raises(InvalidIdToken, match="nonce"):
            await google.verify_id_token(fake.mint_id_token("alice", WEB.client_id), nonce="n-1")

    async def test_a_token_for_another_party_is_refused(self, google: GoogleIdentity, fake: GoogleFake) -> None:
        other_party = fake.mint_id_token("alice", IOS.client_id, claims={"azp": "another.apps.googleusercontent.com"})
        several = fake.mint_id_token(
            "alice", IOS.client_id, claims={"aud": [IOS.client_id, "x.apps.googleusercontent.com"], "azp": None}
        )

        with pytest.raises(InvalidIdToken, match="another application"):
            await google.verify_id_token(other_party)
        with pytest.raises(InvalidIdToken):
            await google.verify_id_token(several)

    async def test_the_clock_skew_is_allowed_and_no_more(
        self, google: GoogleIdentity, fake: GoogleFake, clock: FrozenClock
    ) -> None:
        token = fake.mint_id_token("alice", lifetime_seconds=3600)

        clock.advance(3600 + 59)
        assert (await google.verify_id_token(token)).sub
        clock.advance(2)
        with pytest.raises(InvalidIdToken, match="expired"):
            await google.verify_id_token(token)

    async def test_googles_two_issuer_spellings_are_both_accepted(self, clock: FrozenClock) -> None:
        fake = GoogleFake(clients=[WEB, IOS], issuer="https://accounts.google.com", clock=clock.now)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
            google = GoogleIdentity(http, config("https://accounts.google.com"), clock)

            for issuer in ("https://accounts.google.com", "accounts.google.com"):
                assert (await google.verify_id_token(fake.mint_id_token("alice", issuer=issuer))).sub
            with pytest.raises(InvalidIdToken, match="not issued by Google"):
                await google.verify_id_token(fake.mint_id_token("alice", issuer="https://accounts.google.com.evil"))

    @pytest.mark.parametrize("forgery", [f for f in Forgery if f is not Forgery.unverified_email])
    async def test_every_forgery_is_refused(self, google: GoogleIdentity, fake: GoogleFake, forgery: Forgery) -> None:
        with pytest.raises(InvalidIdToken):
            await google.verify_id_token(fake.mint_forged(forgery, issuer=ISSUER))

    async def test_an_unverified_address_is_reported_not_refused(
        self, google: GoogleIdentity, fake: GoogleFake
    ) -> None:
        # Whether an unverified address may sign in is the driver service's decision.
        claims = await google.verify_id_token(fake.mint_id_token("carol"))

        assert claims.email_verified is False


class TestKeyCache:
    async def test_keys_are_fetched_once_while_googles_max_age_lasts(
        self, google: GoogleIdentity, fake: GoogleFake, clock: FrozenClock
    ) -> None:
        for _ in range(5):
            await google.verify_id_token(fake.mint_id_token("alice"))
        assert fake.requests[CERTS] == 1

        clock.advance(fake.jwks_max_age_seconds + 1)
        await google.verify_id_token(fake.mint_id_token("alice"))

        assert fake.requests[CERTS] == 2
        assert fake.requests["/.well-known/openid-configuration"] == 2  # its max-age is an hour

    async def test_a_new_key_is_learnt_by_one_refetch(self, google: GoogleIdentity, fake: GoogleFake) -> None:
        await google.verify_id_token(fake.mint_id_token("alice"))
        fake.rotate_keys()

        await google.verify_id_token(fake.mint_id_token("alice"))
        await google.verify_id_token(fake.mint_id_token("bob"))

        assert fake.requests[CERTS] == 2

    async def test_a_retired_key_is_refused_once_the_cache_expires(
        self, google: GoogleIdentity, fake: GoogleFake, clock: FrozenClock
    ) -> None:
        fake.rotate_keys()
        old = fake.mint_signed_by_oldest("alice")
        await google.verify_id_token(old)
        fake.retire_key()
        fake.retire_key()

        assert (await google.verify_id_token(old)).sub  # still within Google's max-age
        clock.advance(fake.jwks_max_age_seconds + 1)
        with pytest.raises(InvalidIdToken, match="does not publish"):
            await google.verify_id_token(old)

    async def test_unknown_key_ids_refetch_at_most_once_per_interval(
        self, google: GoogleIdentity, fake: GoogleFake, clock: FrozenClock
    ) -> None:
        await google.verify_id_token(fake.mint_id_token("alice"))

        for _ in range(20):
            with pytest.raises(InvalidIdToken):
                await google.verify_id_token(fake.mint_forged(Forgery.wrong_key, issuer=ISSUER))
        assert fake.requests[CERTS] == 2

        clock.advance(31)
        with pytest.raises(InvalidIdToken):
            await google.verify_id_token(fake.mint_forged(Forgery.wrong_key, issuer=ISSUER))
        assert fake.requests[CERTS] == 3

    async def test_known_keys_keep_working_while_google_is_down(
        self, google: GoogleIdentity, fake: GoogleFake, clock: FrozenClock, transport: Switchable
    ) -> None:
        await google.verify_id_token(fake.mint_id_token("alice"))
        transport.down = True
        clock.advance(fake.jwks_max_age_seconds + 1)

        assert (await google.verify_id_token(fake.mint_id_token("alice"))).sub

    async def test_without_keys_an_outage_is_503(
        self, google: GoogleIdentity, fake: GoogleFake, transport: Switchable
    ) -> None:
        transport.down = True

        with pytest.raises(GoogleUnavailable):
            await google.verify_id_token(fake.mint_id_token("alice"))


class TestCacheControl:
    @pytest.mark.parametrize(
        ("header", "seconds"),
        [
            ("public, max-age=19663, must-revalidate, no-transform", 19663),
            ("max-age=0", 0),
            ("no-store", 0),
            ("private, no-cache", 0),
            (None, 300),
            ("public", 300),
            ("max-age=999999999", 86400),
        ],
    )
    def test_max_age(self, header: str | None, seconds: float) -> None:
        assert max_age_seconds(header) == seconds
