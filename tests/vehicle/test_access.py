"""Vehicle access past the connect session: the order keeps its connection, and its tokens live in SQL."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from carpulse.connect.repository import ConnectSessionRepository
from carpulse.models import VehicleConnection
from tests.connect.flow import sandbox_fake
from tests.payment.flow import act_on_hosted_page, checkout


async def paid(client: httpx.AsyncClient, package: str = "basic") -> dict[str, str]:
    intent = await checkout(client, "stripe", account="solo", package=package)
    await act_on_hosted_page(client, intent["redirect_url"], "pay")
    assert (await client.post("/api/v1/payment/verify", json={"order_id": intent["order_id"]})).status_code == 200
    vehicles = await client.get(f"/api/v1/tesla/session/{intent['session_id']}/vehicles")
    return {**intent, "vin": vehicles.json()["vehicles"][0]["vin"]}


def invoices_path(scope: str, vin: str) -> str:
    return f"/api/v1/tesla/{scope}/vehicles/{vin}/charging-invoices?months=3"


class TestTheOrderKeepsItsConnection:
    async def test_checkout_stores_the_connection_with_encrypted_tokens(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await checkout(committed_client, "stripe", account="solo", package="basic")
        state = committed_app.state.carpulse

        async with state.sessionmaker() as db:
            row = (
                await db.execute(select(VehicleConnection).where(VehicleConnection.id == intent["session_id"]))
            ).scalar_one()
        session = await ConnectSessionRepository(state.ephemeral).get(intent["session_id"])
        assert session is not None
        assert row.access_token == session.access_token  # the same ciphertext, never plaintext
        assert state.box.decrypt(row.access_token).count(".") == 2  # a JWT inside
        assert "." not in row.access_token[:20]
        assert [v["vin"] for v in row.vehicles] == [v.vin for v in session.vehicles]

    async def test_the_order_reads_its_vehicle_after_the_session_is_gone(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid(committed_client)
        await ConnectSessionRepository(committed_app.state.carpulse.ephemeral).delete(intent["session_id"])

        by_order = await committed_client.get(invoices_path(f"orders/{intent['order_id']}", intent["vin"]))
        by_session = await committed_client.get(invoices_path(f"session/{intent['session_id']}", intent["vin"]))

        assert by_order.status_code == 200, by_order.text
        # The session lives its 30 minutes and never longer: its durable copy belongs to the order alone.
        assert by_session.status_code == 404, by_session.text
        assert by_session.json()["type"].endswith("/connect-session-not-found")

    async def test_an_unpaid_order_reads_nothing(self, committed_client: httpx.AsyncClient) -> None:
        intent = await checkout(committed_client, "stripe", account="solo", package="basic")
        vehicles = await committed_client.get(f"/api/v1/tesla/session/{intent['session_id']}/vehicles")
        vin = vehicles.json()["vehicles"][0]["vin"]

        response = await committed_client.get(invoices_path(f"orders/{intent['order_id']}", vin))

        assert response.status_code == 404
        assert response.json()["type"].endswith("/paid-order-not-found")


class TestTokensRotateInOnePlace:
    async def test_a_refresh_is_stored_in_the_row_and_the_session(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid(committed_client)
        state = committed_app.state.carpulse
        async with state.sessionmaker() as db:
            before = await db.get(VehicleConnection, intent["session_id"])
            assert before is not None
            old_access, old_refresh = before.access_token, before.refresh_token
        sandbox_fake(committed_app).set_fault(expire_tokens=True)

        response = await committed_client.get(invoices_path(f"orders/{intent['order_id']}", intent["vin"]))

        assert response.status_code == 200, response.text
        async with state.sessionmaker() as db:
            after = await db.get(VehicleConnection, intent["session_id"])
            assert after is not None
        assert state.box.decrypt(after.access_token) != state.box.decrypt(old_access)
        assert old_refresh is not None
        assert after.refresh_token is not None
        assert state.box.decrypt(after.refresh_token) != state.box.decrypt(old_refresh)
        session = await ConnectSessionRepository(state.ephemeral).get(intent["session_id"])
        assert session is not None
        assert state.box.decrypt(session.access_token) == state.box.decrypt(after.access_token)
        # The rotated pair works for the session's own routes too.
        again = await committed_client.get(invoices_path(f"session/{intent['session_id']}", intent["vin"]))
        assert again.status_code == 200
