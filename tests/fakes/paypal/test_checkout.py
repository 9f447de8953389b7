from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from fakes.paypal import PayPalFake
from tests.fakes.paypal.conftest import BASE, CANCEL_URL, approve, bearer, create_order, order_body


def query(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


class TestApprovalPage:
    async def test_shows_the_amount_and_the_three_choices(self, http: httpx.AsyncClient) -> None:
        order = await create_order(http)

        response = await http.get("/checkoutnow", params={"token": order["id"]})

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert '<p class="amount">19.00 EUR</p>' in response.text
        for outcome in ("approve", "decline", "cancel"):
            assert f'name="sandbox_outcome" value="{outcome}"' in response.text
        assert f'action="{BASE}/checkoutnow"' in response.text
        assert '<html lang="fi">' in response.text

    async def test_unknown_token_is_404(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/checkoutnow", params={"token": "5O190127TN364715T"})

        assert response.status_code == 404

    async def test_unknown_outcome_is_400(self, http: httpx.AsyncClient) -> None:
        order = await create_order(http)

        response = await approve(http, order["id"], "maybe")

        assert response.status_code == 400


class TestApproveFlag:
    async def test_redirects_to_return_url_with_token_and_payer_id(
        self, http: httpx.AsyncClient, fake: PayPalFake
    ) -> None:
        order = await create_order(http)

        response = await approve(http, order["id"])

        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith("https://shop.example/paypal/return?order=ord_1&")
        payer = fake.orders[order["id"]].payer
        assert payer is not None
        assert query(location) == {"order": "ord_1", "token": order["id"], "PayerID": payer["payer_id"]}

    async def test_the_order_becomes_approved_and_offers_capture(self, http: httpx.AsyncClient) -> None:
        order = await create_order(http)
        await approve(http, order["id"])

        fetched = (await http.get(f"/v2/checkout/orders/{order['id']}", headers=await bearer(http))).json()

        assert fetched["status"] == "APPROVED"
        assert {link["rel"] for link in fetched["links"]} == {"self", "capture"}
        assert fetched["payer"]["address"]["country_code"] == "FI"

    async def test_approving_twice_redirects_again_without_a_second_event(
        self, http: httpx.AsyncClient, fake: PayPalFake
    ) -> None:
        order = await create_order(http)
        await approve(http, order["id"])

        again = await approve(http, order["id"])

        assert again.status_code == 303
        assert [event.event_type for event in fake.events] == ["CHECKOUT.ORDER.APPROVED"]


class TestCancelFlag:
    async def test_redirects_to_cancel_url_and_leaves_the_order_alone(
        self, http: httpx.AsyncClient, fake: PayPalFake
    ) -> None:
        order = await create_order(http)

        response = await approve(http, order["id"], "cancel")

        assert response.status_code == 303
        assert response.headers["location"] == f"{CANCEL_URL}?token={order['id']}"
        assert fake.orders[order["id"]].status == "PAYER_ACTION_REQUIRED"
        assert fake.events == []


class TestMountedUnderAPrefix:
    async def test_links_and_forms_carry_the_mount_path(self, fake: PayPalFake) -> None:
        host = FastAPI()
        host.mount("/_sandbox/paypal", fake.app)
        transport = httpx.ASGITransport(app=host)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8100") as http:
            token = await http.post(
                "/_sandbox/paypal/v1/oauth2/token",
                auth=(fake.client_id, fake.client_secret),
                data={"grant_type": "client_credentials"},
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            created = await http.post("/_sandbox/paypal/v2/checkout/orders", json=order_body(), headers=headers)
            approval = next(link["href"] for link in created.json()["links"] if link["rel"] == "payer-action")
            page = await http.get(approval)
            redirect = await http.get(approval + "&sandbox_outcome=approve")

        root = "http://localhost:8100/_sandbox/paypal"
        assert approval == f"{root}/checkoutnow?token={created.json()['id']}"
        assert f'action="{root}/checkoutnow"' in page.text
        assert redirect.status_code == 303
        assert fake.cert_url.startswith(f"{root}/v1/notifications/certs/CERT-")
