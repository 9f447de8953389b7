"""Every fake of a kind shares one set of prepared routes, and each app still answers from its own fake."""

from __future__ import annotations

import base64

import httpx
import pytest
from fastapi import FastAPI

from fakes.paypal import PayPalFake
from fakes.stripe import StripeFake
from fakes.tesla_fleet import TeslaFleetFake


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake.test")


@pytest.mark.parametrize("kind", [TeslaFleetFake, StripeFake, PayPalFake])
def test_a_new_fake_reuses_the_routes_of_the_first(kind: type[TeslaFleetFake | StripeFake | PayPalFake]) -> None:
    first, second = kind(), kind()

    assert first.app is not second.app
    shared = [route for route in first.app.routes if route in second.app.routes]
    assert len(shared) >= 2  # the vendor's routers; only FastAPI's own docs routes are per app


async def test_each_tesla_app_serves_its_own_fleet() -> None:
    calm, faulty = TeslaFleetFake(seed=1), TeslaFleetFake(seed=2)
    faulty.set_fault(error_rate=1)

    async with client(calm.app) as calm_http, client(faulty.app) as faulty_http:
        calm_accounts = (await calm_http.get("/_control/accounts")).json()
        faulty_faults = (await faulty_http.get("/_control/faults")).json()
        calm_faults = (await calm_http.get("/_control/faults")).json()

    assert [account["name"] for account in calm_accounts] == list(calm.accounts)
    assert calm_faults == {"global": {}, "accounts": {}}
    assert faulty_faults["global"] == {"error_rate": 1.0}


async def test_each_stripe_app_checks_its_own_key() -> None:
    one, other = StripeFake(api_key="sk_test_one"), StripeFake(api_key="sk_test_other")

    async with client(one.app) as one_http, client(other.app) as other_http:
        own = await one_http.get("/v1/charges/ch_missing", headers={"Authorization": "Bearer sk_test_one"})
        foreign = await other_http.get("/v1/charges/ch_missing", headers={"Authorization": "Bearer sk_test_one"})

    assert own.status_code == 404
    assert foreign.status_code == 401
    assert [request.status for request in one.requests] == [404]
    assert [request.status for request in other.requests] == [401]


async def test_each_paypal_app_serves_its_own_certificate() -> None:
    one, other = PayPalFake(client_id="one", client_secret="s1"), PayPalFake(client_id="two", client_secret="s2")
    basic = base64.b64encode(b"one:s1").decode()

    async with client(one.app) as one_http, client(other.app) as other_http:
        own_token = await one_http.post(
            "/v1/oauth2/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
        )
        foreign_token = await other_http.post(
            "/v1/oauth2/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
        )
        own_certificate = await one_http.get(f"/v1/notifications/certs/{one.signer.name}")
        foreign_certificate = await other_http.get(f"/v1/notifications/certs/{one.signer.name}")

    assert own_token.status_code == 200
    assert foreign_token.status_code == 401
    assert own_certificate.content == one.certificate_pem
    assert own_certificate.content != other.certificate_pem
    assert foreign_certificate.status_code == 404
