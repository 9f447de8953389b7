"""Charging reads are costly (every history page is a billed Fleet call): the history is cached per
connection and vehicle for a short time, and each kind of read has its own rate limit by cost."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter

from carpulse.charging.history import ChargingHistory
from carpulse.provider.base import ChargingSession
from fakes.tesla_fleet import TeslaFleetFake
from tests.charging.flow import PROBLEM, TESLA, fake_of, session_for, vehicle_path


def history_reads(fake: TeslaFleetFake) -> int:
    return sum(1 for call in fake.calls if call.path.endswith("/dx/charging/history"))


def invoice_ids(fake: TeslaFleetFake, account: str) -> list[str]:
    return [invoice.content_id for session in fake.accounts[account].charging.sessions for invoice in session.invoices]


def other_client(app: FastAPI, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 1))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


class TestHistoryCache:
    async def test_repeated_reads_cost_one_history_read(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        vin = fake.accounts["charger"].vehicles[0].vin
        base = vehicle_path(await session_for(client, "charger"), vin)

        first = await client.get(f"{base}/charging-invoices")
        reads, billed = history_reads(fake), fake.billing.count("charger")
        again = [await client.get(f"{base}/charging-invoices", params={"months": n % 24 + 1}) for n in range(12)]
        again += [await client.get(f"{base}/charging-history.csv") for _ in range(3)]
        again.append(await client.get(f"{base}/charging-invoices"))

        assert first.status_code == 200
        assert reads > 1  # this car's 24 months span several pages: one read is all of them
        assert {response.status_code for response in again} == {200}
        assert history_reads(fake) == reads
        assert fake.billing.count("charger") == billed
        assert again[-1].json() == first.json() | {"window": again[-1].json()["window"]}

    async def test_a_shorter_window_from_the_cache_has_only_its_sessions(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        vin = fake.accounts["charger"].vehicles[0].vin
        base = vehicle_path(await session_for(client, "charger"), vin)
        await client.get(f"{base}/charging-invoices")
        reads = history_reads(fake)

        body = (await client.get(f"{base}/charging-invoices", params={"months": 3})).json()

        assert history_reads(fake) == reads
        assert body["sessions"]
        assert all(row["started_at"] >= body["window"]["start"] for row in body["sessions"])
        expected = sum(
            1
            for session in fake.accounts["charger"].charging.sessions
            if session.vin == vin and session.start.isoformat() >= body["window"]["start"].replace("Z", "+00:00")
        )
        assert body["session_count"] == expected

    async def test_single_invoices_check_ownership_against_the_cached_history(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        vin = fake.accounts["solo"].vehicles[0].vin
        base = vehicle_path(await session_for(client, "solo"), vin)
        ids = invoice_ids(fake, "solo")
        before = history_reads(fake)

        responses = [await client.get(f"{base}/charging-invoices/{invoice_id}") for invoice_id in ids]
        unknown = await client.get(f"{base}/charging-invoices/not-an-invoice-of-this-car")

        assert len(ids) == 13
        assert {response.status_code for response in responses} == {200}
        assert history_reads(fake) - before == 1  # solo's history is one page
        assert unknown.status_code == 404
        assert history_reads(fake) - before == 1

    async def test_concurrent_cold_requests_share_one_read(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        app, client = committed_app, committed_client
        fake = fake_of(app)
        vin = fake.accounts["solo"].vehicles[0].vin
        base = vehicle_path(await session_for(client, "solo"), vin)
        before = history_reads(fake)

        responses = await asyncio.gather(*(client.get(f"{base}/charging-invoices") for _ in range(8)))

        assert {response.status_code for response in responses} == {200}
        assert history_reads(fake) - before == 1

    async def test_another_connection_of_the_same_account_reads_its_own(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        vin = fake.accounts["solo"].vehicles[0].vin
        first, second = await session_for(client, "solo"), await session_for(client, "solo")
        await client.get(f"{vehicle_path(first, vin)}/charging-invoices")
        before = history_reads(fake)

        response = await client.get(f"{vehicle_path(second, vin)}/charging-invoices")

        assert response.status_code == 200
        assert history_reads(fake) - before == 1

    async def test_the_cache_holds_no_readable_history(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        account = fake.accounts["solo"]
        session_id = await session_for(client, "solo")
        await client.get(f"{vehicle_path(session_id, account.vehicles[0].vin)}/charging-invoices")
        state = app.state.carpulse

        stored = await state.ephemeral.get(ChargingHistory.key(session_id, account.vehicles[0].vin))

        assert stored is not None
        assert session_id.encode() not in stored
        assert str(account.charging.sessions[0].session_id).encode() not in stored
        assert state.ephemeral.name == ("redis" if state.settings.redis.url else "memory")

    async def test_the_cache_keeps_normalized_sessions(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        account = fake.accounts["solo"]
        vin = account.vehicles[0].vin
        session_id = await session_for(client, "solo")
        await client.get(f"{vehicle_path(session_id, vin)}/charging-invoices")
        state = app.state.carpulse

        stored = await state.ephemeral.get(ChargingHistory.key(session_id, vin))

        assert stored is not None
        plain = state.box.decrypt(stored.decode())
        kept = TypeAdapter(list[ChargingSession]).validate_json(plain)
        assert kept
        assert {session.session_id for session in kept} <= {
            str(session.session_id) for session in account.charging.sessions
        }
        assert "sessionId" not in plain  # the brand's own payload is not what is kept

    async def test_an_entry_in_the_raw_shape_of_old_is_read_again(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        vin = fake.accounts["solo"].vehicles[0].vin
        session_id = await session_for(client, "solo")
        base = vehicle_path(session_id, vin)
        fresh = (await client.get(f"{base}/charging-invoices")).json()
        state = app.state.carpulse
        raw = [{"sessionId": 1, "vin": vin, "fees": [], "invoices": []}]
        await state.ephemeral.set(ChargingHistory.key(session_id, vin), state.box.encrypt(json.dumps(raw)), 60)
        before = history_reads(fake)

        response = await client.get(f"{base}/charging-invoices")

        assert response.status_code == 200
        assert history_reads(fake) - before == 1
        assert response.json()["sessions"] == fresh["sessions"]


class TestHistoryCacheLifetime:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"charging": {"history_cache_seconds": 1}}

    async def test_the_history_is_read_again_after_the_ttl(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        base = vehicle_path(await session_for(client, "solo"), fake.accounts["solo"].vehicles[0].vin)
        await client.get(f"{base}/charging-invoices")
        await client.get(f"{base}/charging-invoices")
        within = history_reads(fake)

        await asyncio.sleep(1.2)
        await client.get(f"{base}/charging-invoices")

        assert history_reads(fake) == within + 1


class TestHistoryCacheOff:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"charging": {"history_cache_seconds": 0}}

    async def test_zero_reads_on_every_request(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        base = vehicle_path(await session_for(client, "solo"), fake.accounts["solo"].vehicles[0].vin)
        before = history_reads(fake)

        for _ in range(3):
            assert (await client.get(f"{base}/charging-invoices")).status_code == 200

        assert history_reads(fake) - before == 3


class TestPoliciesByCost:
    async def test_every_single_invoice_of_a_car_in_one_minute(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        base = vehicle_path(await session_for(client, "solo"), fake.accounts["solo"].vehicles[0].vin)

        responses = [await client.get(f"{base}/charging-invoices/{invoice}") for invoice in invoice_ids(fake, "solo")]

        assert [response.status_code for response in responses] == [200] * 13
        assert responses[0].headers["ratelimit-policy"] == '60;w=60;comment="invoice"'
        assert [int(response.headers["ratelimit-remaining"]) for response in responses] == list(range(59, 46, -1))

    async def test_zips_have_a_small_budget_of_their_own(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        session_id = await session_for(client, "solo")
        base = vehicle_path(session_id, fake.accounts["solo"].vehicles[0].vin)
        invoice = invoice_ids(fake, "solo")[0]

        zips = [await client.get(f"{base}/charging-invoices.zip", params={"months": 1}) for _ in range(2)]
        zips.append(await client.get(f"{TESLA}/session/{session_id}/charging-invoices.zip", params={"months": 1}))
        refused = await client.get(f"{base}/charging-invoices.zip", params={"months": 1})
        single = await client.get(f"{base}/charging-invoices/{invoice}")

        assert [response.status_code for response in zips] == [200] * 3
        assert zips[0].headers["ratelimit-policy"] == '3;w=60;comment="invoice_zip"'
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith(PROBLEM)
        assert "invoice_zip" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) > 0
        assert single.status_code == 200

    async def test_history_reads_are_limited(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        fake = fake_of(app)
        base = vehicle_path(await session_for(client, "solo"), fake.accounts["solo"].vehicles[0].vin)

        allowed = [await client.get(f"{base}/charging-invoices") for _ in range(20)]
        allowed += [await client.get(f"{base}/charging-history.csv") for _ in range(10)]
        refused = await client.get(f"{base}/charging-history.csv")

        assert {response.status_code for response in allowed} == {200}
        assert allowed[-1].headers["ratelimit-remaining"] == "0"
        assert allowed[0].headers["ratelimit-policy"] == '30;w=60;comment="charging_history"'
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith(PROBLEM)


class TestPerOwnerBudget:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit": {"policies": {"invoice_zip": "2/minute"}}}

    async def test_one_session_from_many_addresses_shares_one_budget(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        fake = fake_of(app)
        vin = fake.accounts["solo"].vehicles[0].vin
        session_id = await session_for(client, "solo")
        path = f"{vehicle_path(session_id, vin)}/charging-invoices.zip"

        statuses = []
        for number in range(3):
            async with other_client(app, f"198.51.100.{number + 1}") as elsewhere:
                statuses.append((await elsewhere.get(path, params={"months": 1})).status_code)
        other_session = await session_for(client, "solo")
        async with other_client(app, "198.51.100.3") as elsewhere:
            own = await elsewhere.get(f"{vehicle_path(other_session, vin)}/charging-invoices.zip", params={"months": 1})

        assert statuses == [200, 200, 429]
        assert own.status_code == 200
