"""Cars in the Logbook through HTTP: owned, shared by e-mail, and invisible to everyone else."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.car.flow import add_car, driver, webhook_token

MODEL_3_VIN = "5YJ3E1EB5LF000001"


class TestCars:
    async def test_a_driver_adds_reads_changes_and_deletes_a_car(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        alice = await driver(app)
        car = await add_car(
            client,
            alice,
            brand="Tesla",
            model="Model 3",
            plate="abc-123",
            vin=MODEL_3_VIN.lower(),
            odometer_start_km=42_000,
        )
        assert (car["plate"], car["vin"], car["role"], car["odometer_start_km"]) == (
            "ABC-123",
            MODEL_3_VIN,
            "owner",
            42_000,
        )
        assert [d["email"] for d in car["drivers"]] == ["alice@example.com"]

        listed = await client.get("/api/v1/logbook/cars", headers=alice)
        assert [c["id"] for c in listed.json()["cars"]] == [car["id"]]

        changed = await client.patch(
            f"/api/v1/logbook/cars/{car['id']}", json={"name": "Daily", "plate": None}, headers=alice
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["name"], changed.json()["plate"], changed.json()["brand"]) == ("Daily", None, "Tesla")

        deleted = await client.delete(f"/api/v1/logbook/cars/{car['id']}", headers=alice)
        assert deleted.status_code == 204
        assert (await client.get(f"/api/v1/logbook/cars/{car['id']}", headers=alice)).status_code == 404

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": ""}, "name"),
            ({"name": "x", "vin": "5YJ3E1EB5LF00000"}, None),  # 16 characters
            ({"name": "x", "vin": "5YJ3E1EB6LF000001"}, None),  # wrong check digit
            ({"name": "x", "odometer_start_km": -1}, "odometer_start_km"),
            ({"name": "x", "colour": "red"}, "colour"),
        ],
    )
    async def test_bad_cars_are_refused_with_a_problem(
        self, app: FastAPI, client: httpx.AsyncClient, body: dict[str, object], field: str | None
    ) -> None:
        alice = await driver(app)
        response = await client.post("/api/v1/logbook/cars", json=body, headers=alice)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        if field is not None:
            assert field in response.text
        assert (await client.get("/api/v1/logbook/cars", headers=alice)).json()["cars"] == []

    async def test_only_drivers_use_the_logbook(self, client: httpx.AsyncClient, admin_token: str) -> None:
        anonymous = await client.get("/api/v1/logbook/cars")
        assert anonymous.status_code == 401
        admin = await client.get("/api/v1/logbook/cars", headers={"Authorization": f"Bearer {admin_token}"})
        assert admin.status_code == 403
        assert admin.json()["type"].endswith("driver-required")


class TestOtherDrivers:
    async def test_every_id_of_one_driver_is_404_to_another(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        alice, bob = await driver(app), await driver(app, "bob@example.com")
        car = await add_car(client, alice)
        await webhook_token(client, alice, car["id"])
        token_id = (await client.get(f"/api/v1/logbook/cars/{car['id']}/webhook-tokens", headers=alice)).json()[
            "tokens"
        ][0]["id"]
        base = f"/api/v1/logbook/cars/{car['id']}"
        for method, path, body in [
            ("GET", base, None),
            ("PATCH", base, {"name": "mine"}),
            ("DELETE", base, None),
            ("POST", f"{base}/drivers", {"email": "bob@example.com"}),
            ("POST", f"{base}/webhook-tokens", {}),
            ("GET", f"{base}/webhook-tokens", None),
            ("DELETE", f"{base}/webhook-tokens/{token_id}", None),
        ]:
            response = await client.request(method, path, json=body, headers=bob)
            assert response.status_code == 404, (method, path, response.text)
        assert (await client.get("/api/v1/logbook/cars", headers=bob)).json()["cars"] == []
        assert (await client.get(base, headers=alice)).json()["name"] == "Work car"


class TestSharedCars:
    async def test_an_invited_driver_sees_the_car_and_only_the_owner_changes_it(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        alice = await driver(app)
        car = await add_car(client, alice)
        invited = await client.post(
            f"/api/v1/logbook/cars/{car['id']}/drivers", json={"email": "Bob@Example.com"}, headers=alice
        )
        assert invited.status_code == 201, invited.text
        assert [(d["email"], d["joined"]) for d in invited.json()["drivers"]] == [
            ("alice@example.com", True),
            ("bob@example.com", False),
        ]
        again = await client.post(
            f"/api/v1/logbook/cars/{car['id']}/drivers", json={"email": "bob@example.com"}, headers=alice
        )
        assert again.status_code == 409

        bob = await driver(app, "bob@example.com")
        seen = await client.get(f"/api/v1/logbook/cars/{car['id']}", headers=bob)
        assert seen.status_code == 200
        assert seen.json()["role"] == "driver"
        assert [d["email"] for d in seen.json()["drivers"]] == ["bob@example.com"]  # not the owner's address
        refused = await client.patch(f"/api/v1/logbook/cars/{car['id']}", json={"name": "bob's"}, headers=bob)
        assert refused.status_code == 403
        assert (await client.get(f"/api/v1/logbook/cars/{car['id']}", headers=alice)).json()["drivers"][1]["joined"]

    async def test_a_driver_taken_off_a_car_loses_it_and_its_tokens(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        alice, bob = await driver(app), await driver(app, "bob@example.com")
        car = await add_car(client, alice)
        shared = await client.post(
            f"/api/v1/logbook/cars/{car['id']}/drivers", json={"email": "bob@example.com"}, headers=alice
        )
        bob_row = shared.json()["drivers"][1]["id"]
        await webhook_token(client, bob, car["id"])
        removed = await client.delete(f"/api/v1/logbook/cars/{car['id']}/drivers/{bob_row}", headers=alice)
        assert removed.status_code == 200, removed.text
        assert (await client.get(f"/api/v1/logbook/cars/{car['id']}", headers=bob)).status_code == 404
        owner_row = removed.json()["drivers"][0]["id"]
        assert (
            await client.delete(f"/api/v1/logbook/cars/{car['id']}/drivers/{owner_row}", headers=alice)
        ).status_code == 404


class TestWebhookTokens:
    async def test_a_token_is_shown_once_listed_without_its_secret_and_revoked(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        alice = await driver(app)
        car = await add_car(client, alice)
        created = await client.post(
            f"/api/v1/logbook/cars/{car['id']}/webhook-tokens", json={"name": "iPhone"}, headers=alice
        )
        assert created.status_code == 201
        body = created.json()
        assert body["token"].startswith("cpw_")
        assert len(body["token"]) == 36
        assert body["urls"]["ping"].endswith(f"/webhook/ping/{body['token']}")
        assert created.headers["cache-control"] == "no-store"
        listed = await client.get(f"/api/v1/logbook/cars/{car['id']}/webhook-tokens", headers=alice)
        assert body["token"] not in listed.text
        assert listed.json()["tokens"][0]["display_prefix"] == body["token"][:10]
        revoked = await client.delete(f"/api/v1/logbook/cars/{car['id']}/webhook-tokens/{body['id']}", headers=alice)
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
