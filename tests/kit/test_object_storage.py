"""S3 and GCS buckets behind the storage interface.

S3 runs against moto's server on a free local port. Moto checks neither the signature nor the expiry
of a presigned GET (it reads only an `Authorization` header), so presigned links are served by moto
and their signatures are checked with botocore's own SigV4 signer. No GCS emulator runs offline:
GCS V4 links are signed offline by obstore with a generated service-account key and verified against
its public key by Google's V4 algorithm.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
import obstore
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from moto.server import ThreadedMotoServer
from obstore.store import S3Store
from pydantic import SecretStr

from carpulse.config import StorageSettings
from carpulse.kit.clock import FrozenClock
from carpulse.kit.storage import (
    InvalidKey,
    LocalStorage,
    ObjectStorage,
    Storage,
    StoredObject,
    UrlSigner,
    open_storage,
)

ACCESS_KEY_ID = "AKIACARPULSETEST0001"
SECRET_ACCESS_KEY = "carpulse-test-secret-access-key-do-not-use"
REGION = "eu-north-1"
SERVICE_ACCOUNT_EMAIL = "carpulse-storage@carpulse-test.iam.gserviceaccount.com"
UNRESERVED = "-_.~"


def signer(default_ttl_seconds: int = 3600) -> UrlSigner:
    return UrlSigner(
        key=b"k" * 32, base_url="https://api.example.test", default_ttl_seconds=default_ttl_seconds, clock=FrozenClock()
    )


def s3_settings(endpoint: str | None = None, **overrides: Any) -> StorageSettings:
    values: dict[str, Any] = {
        "endpoint": endpoint,
        "region": REGION,
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
        "timeout_seconds": 10,
    }
    return StorageSettings(**(values | overrides))


def open_object_storage(url: str, options: StorageSettings | None = None, ttl: int = 3600) -> ObjectStorage:
    storage = open_storage(url, signer(ttl), options)
    assert isinstance(storage, ObjectStorage)
    return storage


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = query_of(url) | changes
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, quote_via=quote), ""))


async def collect(objects: AsyncIterator[StoredObject]) -> list[StoredObject]:
    return [stored async for stored in objects]


# --- S3: moto's server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"carpulse-{uuid.uuid4().hex[:12]}"
    body = (
        '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<LocationConstraint>{REGION}</LocationConstraint></CreateBucketConfiguration>"
    )
    response = httpx.put(f"{s3_endpoint}/{name}", content=body)
    assert response.status_code == 200, response.text
    return name


@pytest.fixture
def s3(s3_endpoint: str, bucket: str) -> ObjectStorage:
    return open_object_storage(f"s3://{bucket}/carpulse/files", s3_settings(s3_endpoint))


@pytest.fixture
def whole_bucket(s3_endpoint: str, bucket: str) -> ObjectStorage:
    """The same bucket without the prefix: shows where objects really land."""
    return open_object_storage(f"s3://{bucket}", s3_settings(s3_endpoint))


def botocore_presigned(url: str) -> dict[str, str]:
    """The query botocore builds when presigning this URL's path and parameters at its `X-Amz-Date`."""
    parts = urlsplit(url)
    fields = query_of(url)
    unsigned = {name: value for name, value in fields.items() if not name.startswith("X-Amz-")}
    request = AWSRequest(
        method="GET", url=urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(unsigned, quote_via=quote), ""))
    )
    request.context["timestamp"] = fields["X-Amz-Date"]
    region = fields["X-Amz-Credential"].split("/")[2]
    auth = S3SigV4QueryAuth(
        Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "s3", region, expires=int(fields["X-Amz-Expires"])
    )
    auth.add_auth(request)
    return query_of(request.url)


def signature_is_valid(url: str) -> bool:
    # The whole query must match: signature, and the credential scope botocore derives from the date.
    return botocore_presigned(url) == query_of(url)


class TestS3Roundtrip:
    async def test_put_then_get_returns_the_bytes(self, s3: ObjectStorage) -> None:
        await s3.put("reports/r1.pdf", b"%PDF-1.7 data", "application/pdf")

        assert await s3.get("reports/r1.pdf") == b"%PDF-1.7 data"

    async def test_objects_land_below_the_url_prefix(self, s3: ObjectStorage, whole_bucket: ObjectStorage) -> None:
        await s3.put("reports/r1.pdf", b"x")

        assert [stored.key for stored in await collect(whole_bucket.list())] == ["carpulse/files/reports/r1.pdf"]
        assert await whole_bucket.get("carpulse/files/reports/r1.pdf") == b"x"

    async def test_put_overwrites(self, s3: ObjectStorage) -> None:
        await s3.put("a.txt", b"old")
        await s3.put("a.txt", b"new")

        assert await s3.get("a.txt") == b"new"

    async def test_exists_reflects_put_and_delete(self, s3: ObjectStorage) -> None:
        assert await s3.exists("a.txt") is False
        await s3.put("a.txt", b"x")
        assert await s3.exists("a.txt") is True

        assert await s3.delete("a.txt") is True

        assert await s3.exists("a.txt") is False
        assert await s3.get("a.txt") is None

    async def test_missing_key_reads_as_none_and_deletes_as_false(self, s3: ObjectStorage) -> None:
        assert await s3.get("nothing.txt") is None
        assert await s3.delete("nothing.txt") is False

    async def test_empty_object_roundtrips(self, s3: ObjectStorage) -> None:
        await s3.put("empty.bin", b"")

        assert await s3.get("empty.bin") == b""
        assert await s3.exists("empty.bin") is True

    async def test_a_prefix_is_not_an_object(self, s3: ObjectStorage) -> None:
        await s3.put("reports/r1.pdf", b"x")

        assert await s3.exists("reports") is False
        assert await s3.get("reports") is None
        assert await s3.delete("reports") is False
        assert await s3.get("reports/r1.pdf") == b"x"

    @pytest.mark.parametrize(
        "key", ["photos/März 2026/a&b?#.jpg", "x%20y", "a+b", ".hidden", "ünïcode/файл.pdf", "q=1;x", "t~*'!$@,"]
    )
    async def test_unusual_keys_roundtrip_and_list_unchanged(self, s3: ObjectStorage, key: str) -> None:
        await s3.put(key, key.encode())

        assert await s3.get(key) == key.encode()
        assert [stored.key for stored in await collect(s3.list())] == [key]

    async def test_every_operation_refuses_an_invalid_key(self, s3: ObjectStorage) -> None:
        for operation in (s3.get, s3.delete, s3.exists):
            with pytest.raises(InvalidKey):
                await operation("../escaped.txt")
        with pytest.raises(InvalidKey):
            await s3.put("a//b", b"x")
        with pytest.raises(InvalidKey):
            s3.signed_url("/etc/passwd")

    async def test_content_type_is_stored(self, s3: ObjectStorage) -> None:
        await s3.put("r.html", b"<p>hi</p>", "text/html; charset=utf-8")

        async with httpx.AsyncClient() as http:
            response = await http.get(s3.signed_url("r.html"))

        assert response.headers["content-type"] == "text/html; charset=utf-8"

    async def test_storage_satisfies_the_protocol(self, s3: ObjectStorage) -> None:
        storage: Storage = s3

        await storage.put("p.txt", b"protocol")

        assert storage.name == "s3"
        assert await storage.get("p.txt") == b"protocol"


class TestS3List:
    async def test_lists_every_object_with_size_and_time(self, s3: ObjectStorage) -> None:
        before = datetime.now(UTC).replace(microsecond=0)
        await s3.put("reports/r1.pdf", b"12345")
        await s3.put("photos/p1.jpg", b"123")
        after = datetime.now(UTC)

        objects = sorted(await collect(s3.list()), key=lambda stored: stored.key)

        assert [(stored.key, stored.size) for stored in objects] == [("photos/p1.jpg", 3), ("reports/r1.pdf", 5)]
        for stored in objects:
            assert stored.last_modified.tzinfo is not None
            assert stored.last_modified.utcoffset() == timedelta(0)
            assert before <= stored.last_modified <= after

    async def test_prefix_matches_whole_segments(self, s3: ObjectStorage) -> None:
        for key in ("reports/2026/r1.pdf", "reports/r2.pdf", "reports-old/r0.pdf", "reportsx.pdf"):
            await s3.put(key, b"x")

        keys = sorted(stored.key for stored in await collect(s3.list("reports")))

        assert keys == ["reports/2026/r1.pdf", "reports/r2.pdf"]
        assert sorted(stored.key for stored in await collect(s3.list("reports/"))) == keys
        assert [stored.key for stored in await collect(s3.list("reports/2026"))] == ["reports/2026/r1.pdf"]

    async def test_unknown_prefix_lists_nothing(self, s3: ObjectStorage) -> None:
        await s3.put("reports/r1.pdf", b"x")

        assert await collect(s3.list("invoices")) == []

    async def test_storages_with_other_prefixes_do_not_see_each_other(
        self, s3_endpoint: str, bucket: str, s3: ObjectStorage
    ) -> None:
        other = open_object_storage(f"s3://{bucket}/carpulse/other", s3_settings(s3_endpoint))
        await s3.put("a.txt", b"mine")
        await other.put("b.txt", b"theirs")

        assert [stored.key for stored in await collect(s3.list())] == ["a.txt"]
        assert [stored.key for stored in await collect(other.list())] == ["b.txt"]
        assert await other.get("a.txt") is None

    async def test_objects_no_key_can_name_are_skipped(self, s3: ObjectStorage) -> None:
        await s3.put("good.txt", b"x")
        # Written around the interface, as another tool might.
        await obstore.put_async(s3.store, "bad\\name.txt", b"x")

        assert [stored.key for stored in await collect(s3.list())] == ["good.txt"]

    async def test_invalid_prefix_is_refused(self, s3: ObjectStorage) -> None:
        with pytest.raises(InvalidKey):
            await collect(s3.list("../other"))

    async def test_a_retention_sweep_deletes_what_is_older_than_the_cutoff(self, s3: ObjectStorage) -> None:
        await s3.put("reports/old.pdf", b"x")
        await s3.put("reports/new.pdf", b"x")
        listed = {stored.key: stored for stored in await collect(s3.list("reports"))}
        # Moto stamps whole seconds, so place the cutoff between the two by their own times.
        cutoff = listed["reports/old.pdf"].last_modified + timedelta(microseconds=1)
        expired = [key for key, stored in listed.items() if stored.last_modified < cutoff]

        for key in expired:
            assert await s3.delete(key) is True

        assert "reports/old.pdf" in expired
        assert {stored.key for stored in await collect(s3.list("reports"))} == set(listed) - set(expired)


class TestS3Ping:
    async def test_ping_writes_and_leaves_nothing_behind(self, s3: ObjectStorage, whole_bucket: ObjectStorage) -> None:
        assert await s3.ping() is None

        assert await collect(whole_bucket.list()) == []

    async def test_ping_of_a_missing_bucket_fails(self, s3_endpoint: str) -> None:
        missing = open_object_storage("s3://carpulse-no-such-bucket", s3_settings(s3_endpoint))

        with pytest.raises(FileNotFoundError, match="carpulse-no-such-bucket/: the bucket does not exist"):
            await missing.ping()


class TestS3SignedUrl:
    async def test_link_serves_the_object(self, s3: ObjectStorage) -> None:
        await s3.put("reports/r1.pdf", b"%PDF-1.7", "application/pdf")

        async with httpx.AsyncClient() as http:
            response = await http.get(s3.signed_url("reports/r1.pdf"))

        assert response.status_code == 200, response.text
        assert response.content == b"%PDF-1.7"
        assert "content-disposition" not in response.headers

    def test_link_is_a_presigned_get_on_the_endpoint(self, s3: ObjectStorage, s3_endpoint: str, bucket: str) -> None:
        before = datetime.now(UTC).replace(microsecond=0)
        url = s3.signed_url("reports/r 1.pdf")
        after = datetime.now(UTC)

        assert url.startswith(f"{s3_endpoint}/{bucket}/carpulse/files/reports/r%201.pdf?")
        query = query_of(url)
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        assert query["X-Amz-Expires"] == "3600"
        assert query["X-Amz-SignedHeaders"] == "host"
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert before <= signed_at <= after
        assert query["X-Amz-Credential"] == f"{ACCESS_KEY_ID}/{signed_at:%Y%m%d}/{REGION}/s3/aws4_request"

    def test_ttl_sets_the_expiry(self, s3: ObjectStorage) -> None:
        assert query_of(s3.signed_url("r.pdf", ttl_seconds=60))["X-Amz-Expires"] == "60"

    def test_default_ttl_comes_from_the_signer(self, s3_endpoint: str, bucket: str) -> None:
        storage = open_object_storage(f"s3://{bucket}", s3_settings(s3_endpoint), ttl=900)

        assert query_of(storage.signed_url("r.pdf"))["X-Amz-Expires"] == "900"

    @pytest.mark.parametrize("ttl", [-1, 7 * 24 * 3600 + 1])
    def test_ttl_outside_what_s3_accepts_is_refused(self, s3: ObjectStorage, ttl: int) -> None:
        with pytest.raises(ValueError, match="seconds"):
            s3.signed_url("r.pdf", ttl_seconds=ttl)

    def test_signature_matches_botocore(self, s3: ObjectStorage) -> None:
        assert signature_is_valid(s3.signed_url("reports/März 2026/r 1+2.pdf"))
        assert signature_is_valid(s3.signed_url("reports/r1.pdf", filename="Health report.pdf"))
        assert signature_is_valid(s3.signed_url("reports/r1.pdf", filename='Bericht "März".pdf'))

    def test_resigning_without_extra_parameters_reproduces_obstores_link(self, s3: ObjectStorage) -> None:
        native = obstore.sign(s3.store, "GET", "reports/r1.pdf", timedelta(hours=1))
        link_signer = s3._link_signer
        assert link_signer is not None

        assert query_of(link_signer.extend(native, {})) == query_of(native)

    @pytest.mark.parametrize(
        "tamper",
        [
            pytest.param(lambda url: url.replace("/r1.pdf?", "/r2.pdf?"), id="other-key"),
            pytest.param(lambda url: with_query(url, **{"X-Amz-Expires": "604800"}), id="longer-expiry"),
            pytest.param(lambda url: with_query(url, **{"X-Amz-Date": "20990101T000000Z"}), id="later-date"),
            pytest.param(
                lambda url: with_query(url, **{"response-content-disposition": "inline"}), id="other-disposition"
            ),
            pytest.param(
                lambda url: with_query(url, **{"response-content-type": "text/html"}), id="added-response-header"
            ),
            pytest.param(
                lambda url: with_query(url, **{"X-Amz-Signature": "0" * 64}),
                id="other-signature",
            ),
        ],
    )
    def test_tampered_link_no_longer_verifies(self, s3: ObjectStorage, tamper: Any) -> None:
        url = s3.signed_url("reports/r1.pdf", filename="Report.pdf")
        assert signature_is_valid(url)

        assert not signature_is_valid(tamper(url))

    async def test_filename_makes_s3_send_an_attachment(self, s3: ObjectStorage) -> None:
        await s3.put("reports/r1.pdf", b"%PDF-1.7", "application/pdf")
        url = s3.signed_url("reports/r1.pdf", filename="Health report.pdf")

        async with httpx.AsyncClient() as http:
            response = await http.get(url)

        assert response.status_code == 200, response.text
        assert response.content == b"%PDF-1.7"
        assert response.headers["content-disposition"] == 'attachment; filename="Health report.pdf"'
        assert query_of(url)["response-content-disposition"] == 'attachment; filename="Health report.pdf"'

    async def test_non_ascii_filename_is_sent_as_rfc_8187(self, s3: ObjectStorage) -> None:
        await s3.put("r.pdf", b"x")

        async with httpx.AsyncClient() as http:
            response = await http.get(s3.signed_url("r.pdf", filename="Bericht März.pdf"))

        assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''Bericht%20M%C3%A4rz.pdf"

    def test_without_a_held_key_the_link_is_obstores_and_carries_no_filename(
        self, s3_endpoint: str, bucket: str
    ) -> None:
        # As with the ambient AWS chain: obstore signs, we hold no key to add the parameter with.
        store = S3Store(
            bucket,
            endpoint=s3_endpoint,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            client_options={"allow_http": True},
        )
        storage = ObjectStorage(store, name="s3", location=f"s3://{bucket}/")

        url = storage.signed_url("r.pdf", filename="Report.pdf")

        assert "response-content-disposition" not in query_of(url)
        assert signature_is_valid(url)


# --- GCS: signed offline -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gcs_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def service_account(tmp_path: Path, gcs_key: rsa.RSAPrivateKey) -> Path:
    pem = gcs_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "carpulse-test",
                "private_key_id": "0123456789abcdef",
                "private_key": pem,
                "client_email": SERVICE_ACCOUNT_EMAIL,
                "client_id": "100000000000000000001",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


@pytest.fixture
def gcs(service_account: Path) -> ObjectStorage:
    return open_object_storage("gs://carpulse-files/reports-eu", StorageSettings(service_account_path=service_account))


def verify_gcs_v4(url: str, public_key: rsa.RSAPublicKey) -> None:
    """Google's V4 signing algorithm checked from the URL alone; raises InvalidSignature."""
    parts = urlsplit(url)
    fields = query_of(url)
    signed = sorted(
        (quote(name, safe=UNRESERVED), quote(value, safe=UNRESERVED))
        for name, value in fields.items()
        if name != "X-Goog-Signature"
    )
    canonical_query = "&".join(f"{name}={value}" for name, value in signed)
    assert fields["X-Goog-SignedHeaders"] == "host"
    canonical_request = f"GET\n{parts.path}\n{canonical_query}\nhost:{parts.netloc}\n\nhost\nUNSIGNED-PAYLOAD"
    scope = fields["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        ["GOOG4-RSA-SHA256", fields["X-Goog-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    signature = bytes.fromhex(fields["X-Goog-Signature"])
    public_key.verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())


class TestGcsSignedUrl:
    def test_link_is_a_v4_signed_url(self, gcs: ObjectStorage) -> None:
        before = datetime.now(UTC).replace(microsecond=0)
        url = gcs.signed_url("2026/r 1.pdf")
        after = datetime.now(UTC)

        assert url.startswith("https://storage.googleapis.com/carpulse-files/reports-eu/2026/r%201.pdf?")
        query = query_of(url)
        assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
        assert query["X-Goog-Expires"] == "3600"
        assert query["X-Goog-SignedHeaders"] == "host"
        signed_at = datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert before <= signed_at <= after
        assert query["X-Goog-Credential"] == f"{SERVICE_ACCOUNT_EMAIL}/{signed_at:%Y%m%d}/auto/storage/goog4_request"
        # RSA-2048: 256 signature bytes, hex-encoded.
        assert len(query["X-Goog-Signature"]) == 512
        int(query["X-Goog-Signature"], 16)

    def test_signature_verifies_with_the_service_accounts_public_key(
        self, gcs: ObjectStorage, gcs_key: rsa.RSAPrivateKey
    ) -> None:
        verify_gcs_v4(gcs.signed_url("2026/März/r 1+2.pdf"), gcs_key.public_key())

    def test_filename_adds_a_signed_content_disposition(self, gcs: ObjectStorage, gcs_key: rsa.RSAPrivateKey) -> None:
        url = gcs.signed_url("2026/r1.pdf", filename="Health report.pdf")

        assert query_of(url)["response-content-disposition"] == 'attachment; filename="Health report.pdf"'
        verify_gcs_v4(url, gcs_key.public_key())

    def test_ttl_sets_the_expiry(self, gcs: ObjectStorage, gcs_key: rsa.RSAPrivateKey) -> None:
        url = gcs.signed_url("r.pdf", ttl_seconds=300, filename="r.pdf")

        assert query_of(url)["X-Goog-Expires"] == "300"
        verify_gcs_v4(url, gcs_key.public_key())

    def test_resigning_without_extra_parameters_reproduces_obstores_link(self, gcs: ObjectStorage) -> None:
        native = obstore.sign(gcs.store, "GET", "2026/r1.pdf", timedelta(hours=1))
        link_signer = gcs._link_signer
        assert link_signer is not None

        # PKCS#1 v1.5 is deterministic: the same string to sign gives the same signature.
        assert query_of(link_signer.extend(native, {})) == query_of(native)

    @pytest.mark.parametrize(
        "tamper",
        [
            pytest.param(lambda url: url.replace("/r1.pdf?", "/r2.pdf?"), id="other-key"),
            pytest.param(lambda url: with_query(url, **{"X-Goog-Expires": "604800"}), id="longer-expiry"),
            pytest.param(
                lambda url: with_query(url, **{"response-content-disposition": "inline"}), id="other-disposition"
            ),
            pytest.param(lambda url: url.replace("carpulse-files", "other-bucket"), id="other-bucket"),
        ],
    )
    def test_tampered_link_no_longer_verifies(
        self, gcs: ObjectStorage, gcs_key: rsa.RSAPrivateKey, tamper: Any
    ) -> None:
        url = gcs.signed_url("2026/r1.pdf", filename="Report.pdf")
        verify_gcs_v4(url, gcs_key.public_key())

        with pytest.raises(InvalidSignature):
            verify_gcs_v4(tamper(url), gcs_key.public_key())

    def test_another_key_does_not_verify_the_link(self, gcs: ObjectStorage) -> None:
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

        with pytest.raises(InvalidSignature):
            verify_gcs_v4(gcs.signed_url("r.pdf"), stranger.public_key())

    def test_endpoint_moves_the_links(self, service_account: Path, gcs_key: rsa.RSAPrivateKey) -> None:
        storage = open_object_storage(
            "gs://carpulse-files", StorageSettings(service_account_path=service_account, endpoint="https://gcs.test")
        )

        url = storage.signed_url("r.pdf", filename="r.pdf")

        assert url.startswith("https://gcs.test/carpulse-files/r.pdf?")
        verify_gcs_v4(url, gcs_key.public_key())

    @pytest.mark.parametrize(
        "content",
        [
            json.dumps({"client_email": SERVICE_ACCOUNT_EMAIL, "private_key": "not a key"}),
            json.dumps({"client_email": SERVICE_ACCOUNT_EMAIL}),
            "not json",
        ],
    )
    def test_a_file_that_is_not_a_service_account_key_is_refused(self, tmp_path: Path, content: str) -> None:
        path = tmp_path / "sa.json"
        path.write_text(content)

        with pytest.raises(ValueError, match="not a service-account key file"):
            open_object_storage("gs://carpulse-files", StorageSettings(service_account_path=path))

    def test_a_key_that_is_not_rsa_is_refused(self, tmp_path: Path) -> None:
        pem = (
            ec.generate_private_key(ec.SECP256R1())
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode()
        )
        path = tmp_path / "sa.json"
        path.write_text(json.dumps({"client_email": SERVICE_ACCOUNT_EMAIL, "private_key": pem}))

        with pytest.raises(ValueError, match="not an RSA key"):
            open_object_storage("gs://carpulse-files", StorageSettings(service_account_path=path))


# --- choosing and configuring a backend ----------------------------------------------------------


class TestOpenObjectStorage:
    def test_s3_url_opens_a_bucket_below_its_prefix(self) -> None:
        storage = open_object_storage("s3://carpulse-files/eu/reports", s3_settings())

        assert storage.name == "s3"
        assert storage.location == "s3://carpulse-files/eu/reports"
        assert storage.signed_url("a.pdf").startswith(
            f"https://s3.{REGION}.amazonaws.com/carpulse-files/eu/reports/a.pdf?"
        )

    def test_gs_url_opens_a_bucket(self, service_account: Path) -> None:
        storage = open_object_storage("gs://carpulse-files", StorageSettings(service_account_path=service_account))

        assert storage.name == "gcs"
        assert storage.location == "gs://carpulse-files/"

    def test_url_options_win_over_settings(self) -> None:
        storage = open_object_storage(
            "s3://b/p?endpoint=http://minio.internal:9000&region=us-west-2",
            s3_settings("http://ignored.test:1"),
        )

        url = storage.signed_url("a.pdf")

        assert url.startswith("http://minio.internal:9000/b/p/a.pdf?")
        assert "/us-west-2/s3/aws4_request" in query_of(url)["X-Amz-Credential"]

    def test_settings_supply_endpoint_and_region(self) -> None:
        storage = open_object_storage("s3://b", s3_settings("http://minio.internal:9000"))

        url = storage.signed_url("a.pdf")

        assert url.startswith("http://minio.internal:9000/b/a.pdf?")
        assert f"/{REGION}/s3/" in query_of(url)["X-Amz-Credential"]

    def test_percent_encoded_prefix_is_decoded(self) -> None:
        storage = open_object_storage("s3://b/car%20pulse", s3_settings())

        assert storage.location == "s3://b/car pulse"

    def test_secrets_stay_out_of_repr(self, service_account: Path) -> None:
        s3 = open_object_storage("s3://b/p", s3_settings())
        gcs = open_object_storage("gs://b/p", StorageSettings(service_account_path=service_account))

        for storage in (s3, gcs):
            text = repr(storage) + repr(vars(storage))
            assert SECRET_ACCESS_KEY not in text
            assert "PRIVATE KEY" not in text
        assert repr(s3) == "ObjectStorage('s3://b/p')"

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("s3://", "bucket name"),
            ("s3:///prefix", "bucket name"),
            ("gs://bucket:443/x", "bucket name"),
            ("s3://bucket?region=a&region=b", "twice"),
            ("gs://bucket?region=eu", "'region'"),
            ("s3://bucket?profile=prod", "'profile'"),
        ],
    )
    def test_malformed_url_is_refused(self, url: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            open_storage(url, signer(), s3_settings())

    @pytest.mark.parametrize(
        "url",
        [
            "s3://AKIAEXAMPLE:hunter2-secret@bucket/p",
            "s3://bucket?secret_access_key=hunter2-secret",
            "gs://bucket?service_account_key=hunter2-secret",
        ],
    )
    def test_credentials_in_the_url_are_refused_without_echoing_them(self, url: str) -> None:
        with pytest.raises(ValueError, match="credentials") as caught:
            open_storage(url, signer(), s3_settings())

        assert "hunter2" not in str(caught.value)

    def test_a_prefix_that_is_not_a_valid_key_is_refused(self) -> None:
        with pytest.raises(InvalidKey):
            open_storage("s3://bucket/a/../b", signer(), s3_settings())

    @pytest.mark.parametrize("half", [{"secret_access_key": None}, {"access_key_id": None}])
    def test_half_a_key_pair_is_refused(self, half: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="both an access key id and a secret") as caught:
            open_storage("s3://bucket", signer(), s3_settings(**half))

        assert SECRET_ACCESS_KEY not in str(caught.value)

    def test_local_urls_still_open_local_storage(self, tmp_path: Path) -> None:
        assert isinstance(open_storage(str(tmp_path), signer(), s3_settings()), LocalStorage)


class TestStorageSettings:
    def test_defaults_keep_local_storage(self) -> None:
        settings = StorageSettings()

        assert settings.url == "var/storage"
        assert settings.access_key_id is None
        assert settings.secret_access_key is None
        assert settings.timeout_seconds == 30.0

    def test_blank_values_from_an_env_file_mean_unset(self) -> None:
        settings = StorageSettings.model_validate(
            {"endpoint": " ", "region": "", "secret_access_key": "", "service_account_path": ""}
        )

        assert settings.endpoint is None
        assert settings.region is None
        assert settings.secret_access_key is None
        assert settings.service_account_path is None

    def test_secret_access_key_is_masked(self) -> None:
        settings = s3_settings()

        assert isinstance(settings.secret_access_key, SecretStr)
        assert SECRET_ACCESS_KEY not in repr(settings)

    def test_every_field_is_described(self) -> None:
        assert all(field.description for field in StorageSettings.model_fields.values())
