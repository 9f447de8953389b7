from __future__ import annotations

import httpx

from fakes.paypal import PayPalFake
from tests.fakes.paypal.conftest import CLIENT_ID, CLIENT_SECRET, Clock, bearer


class TestTokenIssue:
    async def test_client_credentials_give_a_bearer_token(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"}
        )

        body = response.json()
        assert response.status_code == 200
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 32400
        assert body["access_token"].startswith("A21AA")
        assert body["app_id"].startswith("APP-")
        assert response.headers["cache-control"] == "no-store"

    async def test_wrong_secret_is_invalid_client(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/v1/oauth2/token", auth=(CLIENT_ID, "nope"), data={"grant_type": "client_credentials"}
        )

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    async def test_missing_basic_auth_is_invalid_client(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/v1/oauth2/token", data={"grant_type": "client_credentials"})

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    async def test_other_grant_types_are_refused(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "password"})

        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"


class TestBearerCheck:
    async def test_api_calls_without_a_token_are_401(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v2/checkout/orders/5O190127TN364715T")

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"

    async def test_a_valid_token_opens_the_api(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v2/checkout/orders/5O190127TN364715T", headers=await bearer(http))

        assert response.status_code == 404  # past the bearer check, the order simply does not exist


class TestTokenExpiry:
    async def test_a_token_expires_after_its_lifetime(self, http: httpx.AsyncClient, clock: Clock) -> None:
        headers = await bearer(http)
        clock.advance(32400)

        response = await http.get("/v2/checkout/orders/5O190127TN364715T", headers=headers)

        assert response.status_code == 401

    async def test_expire_tokens_rejects_earlier_tokens_only(self, http: httpx.AsyncClient, fake: PayPalFake) -> None:
        old = await bearer(http)
        fake.expire_tokens()
        new = await bearer(http)

        rejected = await http.get("/v2/checkout/orders/5O190127TN364715T", headers=old)
        accepted = await http.get("/v2/checkout/orders/5O190127TN364715T", headers=new)

        assert rejected.status_code == 401
        assert accepted.status_code == 404
