"""Data API sign-up through HTTP: register, the mail in the sandbox, confirm, log in."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.models import Account, EmailConfirmation, OutboundMail
from tests.signup.flow import (
    PASSWORD,
    confirmation_link,
    login,
    mailbox,
    register,
    registered_token,
    registration,
    token_of,
)

PROBLEM = "application/problem+json"


def comparable(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    """What a client sees, less what differs on every request (request id, rate-limit counters)."""
    headers = {k: v for k, v in response.headers.items() if not k.startswith("ratelimit") and k != "x-request-id"}
    return response.status_code, response.json(), headers


def bearer(token_response: httpx.Response) -> dict[str, str]:
    assert token_response.status_code == 200, token_response.text
    return {"Authorization": f"Bearer {token_response.json()['access_token']}"}


class TestSignUpConfirmLogIn:
    async def test_a_business_registers_confirms_by_the_mailed_link_and_logs_in(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        response = await register(client, "Data@Dealer.Example", company_name="  Dealer Oy  ")
        assert response.status_code == 202
        assert response.json()["status"] == "accepted"

        [message] = await mailbox(app, client, "data@dealer.example")
        assert message["subject"] == "Confirm your Car Pulse Data API account"
        assert "Dealer Oy" in message["text"]
        link = confirmation_link(message)
        assert link.startswith("http://testserver/console/confirm?token=")  # the web console's page
        assert "POST the link's token to http://testserver/api/v1/auth/confirm" in message["text"]

        # Scripts follow the same token through the API (the page is tested in tests/web).
        confirmed = await client.get("/api/v1/auth/confirm", params={"token": token_of(link)})
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "confirmed"

        form = await client.post("/api/v1/auth/login", data={"username": "data@dealer.example", "password": PASSWORD})
        json_login = await login(client, "DATA@dealer.example")
        for token in (form, json_login):
            me = await client.get("/api/v1/auth/me", headers=bearer(token))
            assert me.status_code == 200
            body = me.json()
            assert body["role"] == "api_client"
            assert body["username"] == "data@dealer.example"
            assert (body["company_name"], body["country"], body["vat_number"]) == ("Dealer Oy", "FI", "FI20774740")
            assert body["is_active"] is True
            assert body["email_confirmed_at"] is not None

    async def test_scripts_confirm_with_a_post_and_the_vat_number_is_optional(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = await registered_token(app, client, "fleet@leasing.example", country="us", vat_number=None)

        confirmed = await client.post("/api/v1/auth/confirm", json={"token": token})

        assert confirmed.status_code == 200
        me = (await client.get("/api/v1/auth/me", headers=bearer(await login(client, "fleet@leasing.example")))).json()
        assert (me["country"], me["vat_number"]) == ("US", None)

    async def test_greek_numbers_carry_el_and_are_stored_compact(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        token = await registered_token(app, client, "greek@dealer.example", country="GR", vat_number="el 094 259 216")
        await client.post("/api/v1/auth/confirm", json={"token": token})

        me = (await client.get("/api/v1/auth/me", headers=bearer(await login(client, "greek@dealer.example")))).json()

        assert me["vat_number"] == "EL094259216"


class TestUnconfirmedAccount:
    async def test_the_right_password_is_told_the_address_is_unconfirmed(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await register(client, "early@dealer.example")

        response = await login(client, "early@dealer.example")

        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/email-unconfirmed"
        assert "resend" in response.json()["detail"]

    async def test_a_wrong_password_gets_the_answer_of_an_unknown_user(self, client: httpx.AsyncClient) -> None:
        await register(client, "early@dealer.example")

        wrong = await login(client, "early@dealer.example", "not the password at all")
        unknown = await login(client, "nobody@dealer.example", "not the password at all")

        assert wrong.json()["type"] == "/problems/invalid-credentials"
        assert {k: v for k, v in wrong.json().items() if k != "request_id"} == {
            k: v for k, v in unknown.json().items() if k != "request_id"
        }

    async def test_the_account_is_inactive_until_confirmed(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        await register(client, "early@dealer.example")

        account = (await db.execute(select(Account).where(Account.username == "early@dealer.example"))).scalar_one()

        assert (account.is_active, account.email_confirmed_at, account.role.value) == (False, None, "api_client")


class TestNoAccountOracle:
    async def test_a_taken_address_gets_the_same_answer_and_its_owner_a_warning(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = await registered_token(app, client, "owner@dealer.example")
        await client.post("/api/v1/auth/confirm", json={"token": token})

        new = await register(client, "someone-new@dealer.example")
        taken = await register(client, "OWNER@dealer.example", password="an attacker's passphrase", company_name="X")

        assert comparable(taken) == comparable(new)
        [warning, _confirmation] = await mailbox(app, client, "owner@dealer.example")
        assert warning["subject"] == "Sign-up attempt with your Car Pulse address"
        assert "password reset" in warning["text"]
        assert not [link for link in warning["links"] if "token=" in link]
        # Nothing about the account changed: the owner's password still opens it, the other does not.
        assert (await login(client, "owner@dealer.example")).status_code == 200
        assert (await login(client, "owner@dealer.example", "an attacker's passphrase")).status_code == 401

    async def test_an_address_waiting_for_confirmation_is_taken_too(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await register(client, "waiting@dealer.example")

        again = await register(client, "waiting@dealer.example", password="another long passphrase")

        assert again.status_code == 202
        [note, first] = await mailbox(app, client, "waiting@dealer.example")
        assert first["subject"] == "Confirm your Car Pulse Data API account"
        assert note["subject"] == "Sign-up attempt with your Car Pulse address"
        assert "/api/v1/auth/confirm/resend" in note["text"]

    async def test_a_taken_address_costs_the_password_hash_too(self, client: httpx.AsyncClient) -> None:
        await register(client, "timed@dealer.example")

        async def seconds(email: str) -> float:
            started = time.perf_counter()
            assert (await register(client, email)).status_code == 202
            return time.perf_counter() - started

        new = statistics.median([await seconds(f"new{n}@dealer.example") for n in range(3)])
        taken = statistics.median([await seconds("timed@dealer.example") for _ in range(3)])

        # Without the hash a taken address would answer in a few percent of the time (argon2 dominates).
        assert 0.5 < taken / new < 2.0, (taken, new)

    async def test_both_cases_write_one_outbox_mail(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        await register(client, "one@dealer.example")
        await register(client, "one@dealer.example")

        kinds = (
            await db.execute(select(OutboundMail.kind).where(OutboundMail.to_address == "one@dealer.example"))
        ).scalars()

        assert sorted(kinds) == ["signup.address_taken", "signup.confirmation"]


class TestRegistrationRefusals:
    @pytest.mark.parametrize(
        ("changes", "field", "reason"),
        [
            ({"vat_number": "DE136695977"}, "vat_number", "a VAT number of FI starts with FI"),
            ({"country": "DE", "vat_number": "DE136695977"}, "vat_number", "wrong check digit"),
            ({"country": "DE", "vat_number": "DE13669597"}, "vat_number", "wrong length"),
            ({"country": "GR", "vat_number": "GR094259216"}, "vat_number", "start with EL, not GR"),
            ({"country": "US", "vat_number": "FI20774740"}, "vat_number", "US is not an EU VAT country"),
            ({"country": "XX"}, "country", "not an ISO 3166-1 alpha-2 country code"),
            ({"country": "Finland"}, "country", "not an ISO 3166-1 alpha-2 country code"),
            ({"password": "short pass"}, "password", "at least 12 characters"),
            ({"password": "aaaaaaaaaaaaaaaa"}, "password", "at least 4 different characters"),
            ({"password": "data@dealer.example"}, "password", "must not be the e-mail address"),
            ({"email": "not-an-address"}, "email", "not a valid email address"),
            ({"email": "two@@dealer.example"}, "email", "not a valid email address"),
            ({"company_name": "   "}, "company_name", "at least 1 character"),
        ],
    )
    async def test_bad_input_is_422_with_the_reason(
        self, client: httpx.AsyncClient, changes: dict[str, Any], field: str, reason: str
    ) -> None:
        body = registration(**changes) if "email" not in changes else registration(changes.pop("email"), **changes)

        response = await client.post("/api/v1/auth/register", json=body)

        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        errors = response.json()["errors"]
        assert [error["loc"] for error in errors] == [["body", field]]
        assert reason in errors[0]["message"]
        assert PASSWORD not in response.text

    async def test_nothing_is_created_for_refused_input(self, client: httpx.AsyncClient, db: AsyncSession) -> None:
        await client.post("/api/v1/auth/register", json=registration(vat_number="FI20774741"))

        assert (await db.execute(select(Account).where(Account.username == "data@dealer.example"))).first() is None

    async def test_unknown_fields_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/v1/auth/register", json={**registration(), "role": "admin"})

        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "role"]


class TestConfirmationLinks:
    async def test_following_a_link_twice_is_harmless(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        token = await registered_token(app, client, "twice@dealer.example")

        first = await client.get("/api/v1/auth/confirm", params={"token": token})
        second = await client.get("/api/v1/auth/confirm", params={"token": token})
        by_post = await client.post("/api/v1/auth/confirm", json={"token": token})

        assert first.json()["status"] == "confirmed"
        assert (second.status_code, second.json()["status"]) == (200, "already_confirmed")
        assert by_post.json()["status"] == "already_confirmed"
        assert (await login(client, "twice@dealer.example")).status_code == 200

    @pytest.mark.parametrize("forged", ["x" * 43, "not-a-token", "A" * 256])
    async def test_a_forged_token_is_400(self, app: FastAPI, client: httpx.AsyncClient, forged: str) -> None:
        await registered_token(app, client, "forged@dealer.example")

        response = await client.get("/api/v1/auth/confirm", params={"token": forged})

        assert response.status_code == 400
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/confirmation-token-invalid"
        assert (await login(client, "forged@dealer.example")).json()["type"] == "/problems/email-unconfirmed"

    async def test_a_truncated_token_is_400(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        token = await registered_token(app, client, "cut@dealer.example")

        response = await client.post("/api/v1/auth/confirm", json={"token": token[:-1]})

        assert response.json()["type"] == "/problems/confirmation-token-invalid"

    async def test_an_expired_token_is_410_and_a_resent_link_works(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        token = await registered_token(app, client, "late@dealer.example")
        await db.execute(update(EmailConfirmation).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await db.commit()

        expired = await client.get("/api/v1/auth/confirm", params={"token": token})
        assert expired.status_code == 410
        assert expired.json()["type"] == "/problems/confirmation-token-expired"
        assert "resend" in expired.json()["detail"]

        resent = await client.post("/api/v1/auth/confirm/resend", json={"email": "late@dealer.example"})
        assert resent.status_code == 202
        [newest, _first] = await mailbox(app, client, "late@dealer.example")
        fresh = token_of(confirmation_link(newest))
        assert (await client.post("/api/v1/auth/confirm", json={"token": fresh})).json()["status"] == "confirmed"

    async def test_a_link_lives_24_hours(self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession) -> None:
        await registered_token(app, client, "ttl@dealer.example")

        row = (await db.execute(select(EmailConfirmation))).scalar_one()

        assert row.expires_at - row.created_at == timedelta(hours=24)
        assert len(row.token_hash) == 64

    async def test_a_resent_link_replaces_the_earlier_one(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        old = await registered_token(app, client, "resend@dealer.example")
        await client.post("/api/v1/auth/confirm/resend", json={"email": "RESEND@dealer.example"})
        [newest, _] = await mailbox(app, client, "resend@dealer.example")

        replaced = await client.post("/api/v1/auth/confirm", json={"token": old})
        confirmed = await client.post("/api/v1/auth/confirm", json={"token": token_of(confirmation_link(newest))})

        assert replaced.status_code == 400
        assert confirmed.json()["status"] == "confirmed"

    async def test_the_token_is_stored_only_as_its_hash(
        self, app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        token = await registered_token(app, client, "hash@dealer.example")

        row = (await db.execute(select(EmailConfirmation))).scalar_one()

        assert token not in (row.token_hash, str(row.id))


class TestResendOracle:
    async def test_every_address_gets_the_same_answer_and_only_a_waiting_one_a_mail(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = await registered_token(app, client, "done@dealer.example")
        await client.post("/api/v1/auth/confirm", json={"token": token})
        await register(client, "waiting@dealer.example")
        await mailbox(app, client, "waiting@dealer.example")

        answers = [
            await client.post("/api/v1/auth/confirm/resend", json={"email": address})
            for address in ("nobody@dealer.example", "done@dealer.example", "waiting@dealer.example")
        ]

        assert comparable(answers[0]) == comparable(answers[1]) == comparable(answers[2])
        assert answers[0].status_code == 202
        assert await mailbox(app, client, "nobody@dealer.example") == []
        assert len(await mailbox(app, client, "done@dealer.example")) == 1
        assert len(await mailbox(app, client, "waiting@dealer.example")) == 2


class TestRateLimits:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit": {"policies": {"register": "2/hour", "confirmation_resend": "1/hour"}}}

    async def test_registrations_per_client_ip(self, client: httpx.AsyncClient) -> None:
        statuses = [(await register(client, f"n{n}@dealer.example")).status_code for n in range(3)]

        assert statuses == [202, 202, 429]

    async def test_registrations_per_address_from_many_ips(self, app: FastAPI) -> None:
        statuses = []
        for n in range(3):
            transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{n}", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
                statuses.append((await register(other, "victim@dealer.example")).status_code)
            await app.state.carpulse.jobs.drain()

        assert statuses == [202, 202, 429]

    async def test_the_refusal_says_when_to_retry(self, client: httpx.AsyncClient) -> None:
        for n in range(2):
            await register(client, f"n{n}@dealer.example")
        refused = await register(client, "n2@dealer.example")

        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["type"] == "/problems/rate-limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 3600

    async def test_resends(self, client: httpx.AsyncClient) -> None:
        first = await client.post("/api/v1/auth/confirm/resend", json={"email": "a@dealer.example"})
        second = await client.post("/api/v1/auth/confirm/resend", json={"email": "b@dealer.example"})

        assert (first.status_code, second.status_code) == (202, 429)


class TestSandboxMailbox:
    async def test_newest_first_with_links_and_only_for_the_address(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await register(client, "box@dealer.example")
        await client.post("/api/v1/auth/confirm/resend", json={"email": "box@dealer.example"})
        await register(client, "other@dealer.example")

        messages = await mailbox(app, client, "BOX@dealer.example")

        assert len(messages) == 2
        assert messages[0]["received_at"] >= messages[1]["received_at"]
        assert {message["to"] for message in messages} == {"box@dealer.example"}
        assert all(message["links"][0].startswith("http://testserver/console/confirm?token=") for message in messages)
        assert confirmation_link(messages[0]) != confirmation_link(messages[1])
