"""GET /files/{key}: downloads through links the app signed."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from carpulse.kit.clock import FrozenClock
from carpulse.kit.storage import LocalStorage

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.7\n% Car Pulse health report\n"
SECRET = b"a file outside the storage root"


@pytest.fixture
def storage(app: FastAPI) -> LocalStorage:
    storage: LocalStorage = app.state.carpulse.storage
    return storage


def link_parts(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {name: values[0] for name, values in parse_qs(parts.query).items()}


def assert_problem(response: httpx.Response, status: int, type_: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if type_ is not None:
        assert body["type"] == type_
    return body


class TestValidLink:
    async def test_signed_link_serves_the_file(self, client: httpx.AsyncClient, storage: LocalStorage) -> None:
        await storage.put("reports/r1.pdf", PDF, "application/pdf")

        response = await client.get(storage.signed_url("reports/r1.pdf", filename="Health report.pdf"))

        assert response.status_code == 200, response.text
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
        assert "attachment" in response.headers["content-disposition"]
        assert "Health%20report.pdf" in response.headers["content-disposition"]
        assert "private" in response.headers["cache-control"]
        assert "no-store" in response.headers["cache-control"]

    async def test_without_filename_the_key_name_is_used(
        self, client: httpx.AsyncClient, storage: LocalStorage
    ) -> None:
        await storage.put("reports/r2.pdf", PDF)

        response = await client.get(storage.signed_url("reports/r2.pdf"))

        assert response.status_code == 200, response.text
        assert response.headers["content-disposition"] == 'attachment; filename="r2.pdf"'
        assert response.headers["content-type"] == "application/pdf"

    async def test_html_opens_as_a_page_under_a_strict_policy(
        self, client: httpx.AsyncClient, storage: LocalStorage
    ) -> None:
        await storage.put(
            "reports/r3.html", "<!DOCTYPE html><p>Akun kunto 94,5 % · päivä</p>".encode(), "text/html; charset=utf-8"
        )

        response = await client.get(storage.signed_url("reports/r3.html"))

        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["content-disposition"] == 'inline; filename="r3.html"'
        policy = {
            directive.split(" ", 1)[0]: directive.split(" ", 1)[1]
            for directive in response.headers["content-security-policy"].split("; ")
        }
        assert policy["default-src"] == "'none'"  # so no script, font, frame or connection
        assert "script-src" not in policy
        assert policy["frame-ancestors"] == "'none'"
        assert policy["base-uri"] == "'none'"
        assert policy["form-action"] == "'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.text == "<!DOCTYPE html><p>Akun kunto 94,5 % · päivä</p>"

    async def test_unknown_extension_is_served_as_octet_stream(
        self, client: httpx.AsyncClient, storage: LocalStorage
    ) -> None:
        await storage.put("blobs/data.carpulse-unknown", b"\x00\x01")

        response = await client.get(storage.signed_url("blobs/data.carpulse-unknown"))

        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.content == b"\x00\x01"

    async def test_key_with_spaces_and_unicode(self, client: httpx.AsyncClient, storage: LocalStorage) -> None:
        await storage.put("photos/März 2026/front left.jpg", b"jpeg")

        response = await client.get(storage.signed_url("photos/März 2026/front left.jpg", filename="Front.jpg"))

        assert response.status_code == 200, response.text
        assert response.content == b"jpeg"
        assert response.headers["content-type"] == "image/jpeg"

    async def test_link_works_more_than_once_until_it_expires(
        self, client: httpx.AsyncClient, storage: LocalStorage
    ) -> None:
        await storage.put("r.pdf", PDF)
        url = storage.signed_url("r.pdf")

        first = await client.get(url)
        second = await client.get(url)

        assert (first.status_code, second.status_code) == (200, 200)


class TestInvalidLink:
    async def test_tampered_signature_is_forbidden(self, client: httpx.AsyncClient, storage: LocalStorage) -> None:
        await storage.put("r.pdf", PDF)
        path, query = link_parts(storage.signed_url("r.pdf"))
        signature = query["signature"]
        query["signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]

        response = await client.get(path, params=query)

        body = assert_problem(response, 403, "/problems/link-invalid")
        assert "signature" in str(body["detail"])
        assert PDF not in response.content

    async def test_changed_filename_is_forbidden(self, client: httpx.AsyncClient, storage: LocalStorage) -> None:
        await storage.put("r.pdf", PDF)
        path, query = link_parts(storage.signed_url("r.pdf", filename="Report.pdf"))
        query["filename"] = "evil.html"

        response = await client.get(path, params=query)

        assert_problem(response, 403, "/problems/link-invalid")

    async def test_link_for_another_key_is_forbidden(self, client: httpx.AsyncClient, storage: LocalStorage) -> None:
        await storage.put("mine.pdf", PDF)
        await storage.put("yours.pdf", b"someone else's report")
        _, query = link_parts(storage.signed_url("mine.pdf"))

        response = await client.get("/files/yours.pdf", params=query)

        assert_problem(response, 403, "/problems/link-invalid")
        assert b"someone else" not in response.content

    async def test_extended_expiry_is_forbidden(self, client: httpx.AsyncClient, storage: LocalStorage) -> None:
        await storage.put("r.pdf", PDF)
        path, query = link_parts(storage.signed_url("r.pdf"))
        query["expires"] = str(int(query["expires"]) + 86400)

        response = await client.get(path, params=query)

        assert_problem(response, 403, "/problems/link-invalid")

    async def test_expired_link_is_forbidden(self, client: httpx.AsyncClient, storage: LocalStorage) -> None:
        await storage.put("r.pdf", PDF)
        # The same signing key, as it stood two hours ago: a correctly signed link, now expired.
        two_hours_ago = FrozenClock(storage.signer.clock.now() - timedelta(hours=2))
        signer_then = dataclasses.replace(storage.signer, clock=two_hours_ago)

        response = await client.get(signer_then.sign("r.pdf", ttl_seconds=60))

        body = assert_problem(response, 403, "/problems/link-invalid")
        assert "expired" in str(body["detail"])

    async def test_non_hex_signature_is_forbidden(self, client: httpx.AsyncClient, storage: LocalStorage) -> None:
        await storage.put("r.pdf", PDF)
        path, query = link_parts(storage.signed_url("r.pdf"))
        query["signature"] = "z" * 64

        response = await client.get(path, params=query)

        assert_problem(response, 403, "/problems/link-invalid")

    async def test_non_ascii_signature_is_forbidden_not_a_server_error(
        self, client: httpx.AsyncClient, storage: LocalStorage
    ) -> None:
        await storage.put("r.pdf", PDF)
        path, query = link_parts(storage.signed_url("r.pdf"))
        query["signature"] = "é" * 64

        response = await client.get(path, params=query)

        assert_problem(response, 403, "/problems/link-invalid")


class TestMissingFile:
    async def test_valid_link_to_a_missing_file_is_not_found(
        self, client: httpx.AsyncClient, storage: LocalStorage
    ) -> None:
        response = await client.get(storage.signed_url("reports/never-written.pdf"))

        assert_problem(response, 404, "/problems/not-found")

    async def test_valid_link_to_a_deleted_file_is_not_found(
        self, client: httpx.AsyncClient, storage: LocalStorage
    ) -> None:
        await storage.put("r.pdf", PDF)
        url = storage.signed_url("r.pdf")
        await storage.delete("r.pdf")

        response = await client.get(url)

        assert_problem(response, 404, "/problems/not-found")

    async def test_valid_link_to_a_directory_is_not_found(
        self, client: httpx.AsyncClient, storage: LocalStorage
    ) -> None:
        await storage.put("reports/r.pdf", PDF)

        response = await client.get(storage.signed_url("reports"))

        assert_problem(response, 404, "/problems/not-found")


class TestTraversal:
    @pytest.fixture
    def outside(self, storage: LocalStorage) -> Path:
        """A file next to the storage root, which no key may reach."""
        storage.root.mkdir(parents=True, exist_ok=True)
        path = storage.root.parent / "outside.txt"
        path.write_bytes(SECRET)
        return path

    # httpx drops literal dot segments before sending; percent-encoded ones reach the app as `..`.
    @pytest.mark.parametrize("encoded", ["..", "%2E%2E", "%2e%2e", "reports/../..", "reports/%2E%2E/%2E%2E"])
    async def test_dot_dot_with_a_forged_signature_never_leaves_the_root(
        self, client: httpx.AsyncClient, outside: Path, encoded: str
    ) -> None:
        response = await client.get(
            f"/files/{encoded}/outside.txt", params={"expires": 9999999999, "signature": "0" * 64}
        )

        assert response.status_code in (403, 404)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert SECRET not in response.content

    @pytest.mark.parametrize("encoded", ["%2E%2E/outside.txt", "reports/%2E%2E/%2E%2E/outside.txt"])
    async def test_dot_dot_with_a_valid_signature_is_not_found(
        self, client: httpx.AsyncClient, storage: LocalStorage, outside: Path, encoded: str
    ) -> None:
        # Even a correctly signed `..` key (the signer itself does not validate keys) is refused.
        key = encoded.replace("%2E", ".")
        _, query = link_parts(storage.signer.sign(key))

        response = await client.get(f"/files/{encoded}", params=query)

        assert_problem(response, 404, "/problems/not-found")
        assert SECRET not in response.content

    async def test_absolute_key_with_a_valid_signature_is_not_found(
        self, client: httpx.AsyncClient, storage: LocalStorage, outside: Path
    ) -> None:
        key = str(outside)
        _, query = link_parts(storage.signer.sign(key))

        response = await client.get(f"/files/{key}", params=query)

        assert_problem(response, 404)
        assert SECRET not in response.content

    async def test_backslash_key_with_a_valid_signature_is_not_found(
        self, client: httpx.AsyncClient, storage: LocalStorage, outside: Path
    ) -> None:
        key = "..\\outside.txt"
        _, query = link_parts(storage.signer.sign(key))

        response = await client.get("/files/..%5Coutside.txt", params=query)

        assert_problem(response, 404, "/problems/not-found")
        assert SECRET not in response.content


class TestBadQuery:
    async def test_missing_parameters_are_a_validation_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/files/r.pdf")

        body = assert_problem(response, 422, "/problems/validation-failed")
        missing = {tuple(error["loc"]) for error in body["errors"]}
        assert ("query", "expires") in missing
        assert ("query", "signature") in missing

    @pytest.mark.parametrize(
        "params",
        [
            {"expires": "soon", "signature": "0" * 64},
            {"expires": "-1", "signature": "0" * 64},
            {"expires": "1", "signature": "0" * 63},
            {"expires": "1", "signature": "0" * 65},
            {"expires": "1", "signature": "0" * 64, "filename": "x" * 201},
        ],
    )
    async def test_malformed_parameters_are_a_validation_problem(
        self, client: httpx.AsyncClient, params: dict[str, str]
    ) -> None:
        response = await client.get("/files/r.pdf", params=params)

        assert_problem(response, 422, "/problems/validation-failed")

    async def test_huge_expiry_is_forbidden_not_a_server_error(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/files/r.pdf", params={"expires": "9" * 40, "signature": "0" * 64})

        assert_problem(response, 403, "/problems/link-invalid")
