"""Local object storage, its key rules and the signed links that point at it."""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from carpulse.kit.clock import FrozenClock
from carpulse.kit.storage import (
    FILES_PATH,
    InvalidKey,
    LocalStorage,
    ObjectStorage,
    Storage,
    StoredObject,
    UrlSigner,
    normalize_key,
    open_storage,
)

SIGNING_KEY = b"test-signing-key-0123456789abcdef"
BASE_URL = "https://api.example.test"


def make_signer(clock: FrozenClock | None = None, key: bytes = SIGNING_KEY) -> UrlSigner:
    return UrlSigner(key=key, base_url=BASE_URL, default_ttl_seconds=3600, clock=clock or FrozenClock())


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def signer(clock: FrozenClock) -> UrlSigner:
    return make_signer(clock)


@pytest.fixture
def storage(tmp_path: Path, signer: UrlSigner) -> LocalStorage:
    return LocalStorage(tmp_path / "storage", signer)


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


class TestNormalizeKey:
    @pytest.mark.parametrize(
        "key",
        [
            "a",
            "report.pdf",
            "reports/2026/03/health-report.pdf",
            "photos/a b (1).jpg",
            "ünïcode/файл.pdf",
            ".hidden",
            "..dots-in-name",
            "name..with..dots",
            "x" * 512,
        ],
    )
    def test_accepts_ordinary_keys_unchanged(self, key: str) -> None:
        assert normalize_key(key) == key

    @pytest.mark.parametrize(
        "key",
        ["..", "../x", "../../etc/passwd", "a/../b", "a/..", "reports/../../outside"],
    )
    def test_refuses_traversal(self, key: str) -> None:
        with pytest.raises(InvalidKey):
            normalize_key(key)

    @pytest.mark.parametrize("key", ["/", "/abs", "/etc/passwd", "//server/share"])
    def test_refuses_absolute_keys(self, key: str) -> None:
        with pytest.raises(InvalidKey):
            normalize_key(key)

    @pytest.mark.parametrize("key", ["a\\b", "..\\windows", "\\abs"])
    def test_refuses_backslashes(self, key: str) -> None:
        with pytest.raises(InvalidKey):
            normalize_key(key)

    @pytest.mark.parametrize("key", ["a\x00b", "a\nb", "a\rb", "a\tb", "a\x1fb", "a\x7fb"])
    def test_refuses_control_characters(self, key: str) -> None:
        with pytest.raises(InvalidKey):
            normalize_key(key)

    def test_refuses_the_empty_key(self) -> None:
        with pytest.raises(InvalidKey):
            normalize_key("")

    def test_refuses_keys_longer_than_512_characters(self) -> None:
        with pytest.raises(InvalidKey):
            normalize_key("x" * 513)

    def test_refuses_empty_segments(self) -> None:
        with pytest.raises(InvalidKey):
            normalize_key("a//b")

    @pytest.mark.parametrize("key", [".", "./", "./.", "a/./b", "./a", "a/"])
    def test_refuses_dot_and_trailing_empty_segments(self, key: str) -> None:
        # `.` would name the storage root itself; the others silently alias another key.
        with pytest.raises(InvalidKey):
            normalize_key(key)

    def test_invalid_key_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match=r"\.\./x"):
            normalize_key("../x")


# Keys built from the pieces that matter for paths, plus arbitrary text.
_SEGMENTS = st.sampled_from(["", ".", "..", "...", "a", "b.pdf", "..a", "a..", "~", "\\", "\\..", " ", "\x00", "é"])
_PATHLIKE_KEYS = st.lists(_SEGMENTS, min_size=1, max_size=6).map("/".join)
_PROPERTY_ROOT = Path("/nonexistent-carpulse-storage-root/files")


class TestPathForStaysInsideTheRoot:
    @given(key=st.one_of(_PATHLIKE_KEYS, st.text(max_size=600)))
    @example(key=".")
    @example(key="./")
    @example(key="a/../..")
    @example(key="/etc/passwd")
    def test_every_accepted_key_names_a_path_strictly_below_the_root(self, key: str) -> None:
        storage = LocalStorage(_PROPERTY_ROOT, make_signer())
        try:
            normalized = normalize_key(key)
        except InvalidKey:
            return

        resolved = storage.path_for(key).resolve()

        assert resolved.is_relative_to(_PROPERTY_ROOT)
        assert resolved != _PROPERTY_ROOT
        assert resolved.relative_to(_PROPERTY_ROOT).as_posix() == normalized

    def test_path_for_refuses_what_normalize_key_refuses(self, storage: LocalStorage) -> None:
        with pytest.raises(InvalidKey):
            storage.path_for("../outside.txt")


class TestLocalStorageRoundtrip:
    async def test_put_then_get_returns_the_bytes(self, storage: LocalStorage) -> None:
        await storage.put("reports/r1.pdf", b"%PDF-1.7 data", "application/pdf")

        assert await storage.get("reports/r1.pdf") == b"%PDF-1.7 data"

    async def test_put_writes_below_the_root(self, storage: LocalStorage) -> None:
        await storage.put("reports/2026/r1.pdf", b"data")

        assert (storage.root / "reports" / "2026" / "r1.pdf").read_bytes() == b"data"

    async def test_put_overwrites(self, storage: LocalStorage) -> None:
        await storage.put("a.txt", b"old")
        await storage.put("a.txt", b"new")

        assert await storage.get("a.txt") == b"new"

    async def test_exists_reflects_put_and_delete(self, storage: LocalStorage) -> None:
        assert await storage.exists("a.txt") is False
        await storage.put("a.txt", b"x")
        assert await storage.exists("a.txt") is True

        assert await storage.delete("a.txt") is True

        assert await storage.exists("a.txt") is False
        assert await storage.get("a.txt") is None

    async def test_missing_key_reads_as_none_and_deletes_as_false(self, storage: LocalStorage) -> None:
        assert await storage.get("nothing.txt") is None
        assert await storage.delete("nothing.txt") is False

    async def test_empty_file_roundtrips(self, storage: LocalStorage) -> None:
        await storage.put("empty.bin", b"")

        assert await storage.get("empty.bin") == b""
        assert await storage.exists("empty.bin") is True

    async def test_invalid_key_is_refused_and_nothing_is_written(self, storage: LocalStorage, tmp_path: Path) -> None:
        with pytest.raises(InvalidKey):
            await storage.put("../escaped.txt", b"x")

        assert not (tmp_path / "escaped.txt").exists()
        assert files_under(tmp_path) == []

    async def test_every_operation_refuses_an_invalid_key(self, storage: LocalStorage) -> None:
        for operation in (storage.get, storage.delete, storage.exists):
            with pytest.raises(InvalidKey):
                await operation("/etc/passwd")

    async def test_a_directory_is_not_a_stored_object(self, storage: LocalStorage) -> None:
        await storage.put("reports/r1.pdf", b"x")

        assert await storage.exists("reports") is False
        assert await storage.get("reports") is None
        assert await storage.delete("reports") is False
        assert await storage.get("reports/r1.pdf") == b"x"

    async def test_a_key_below_a_stored_file_is_missing(self, storage: LocalStorage) -> None:
        await storage.put("r1.pdf", b"x")

        assert await storage.exists("r1.pdf/inner") is False
        assert await storage.get("r1.pdf/inner") is None
        assert await storage.delete("r1.pdf/inner") is False


async def listed(storage: Storage, prefix: str = "") -> list[StoredObject]:
    return [stored async for stored in storage.list(prefix)]


class TestLocalStorageList:
    async def test_a_missing_root_lists_nothing(self, storage: LocalStorage) -> None:
        assert await listed(storage) == []

    async def test_lists_every_file_in_key_order_with_its_size(self, storage: LocalStorage) -> None:
        await storage.put("reports/2026/r1.pdf", b"12345")
        await storage.put("photos/p1.jpg", b"123")
        await storage.put("a.txt", b"")

        assert [(stored.key, stored.size) for stored in await listed(storage)] == [
            ("a.txt", 0),
            ("photos/p1.jpg", 3),
            ("reports/2026/r1.pdf", 5),
        ]

    async def test_last_modified_is_the_files_mtime_in_utc(self, storage: LocalStorage) -> None:
        await storage.put("old.pdf", b"x")
        stamp = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
        os.utime(storage.path_for("old.pdf"), (stamp.timestamp(), stamp.timestamp()))

        [stored] = await listed(storage)

        assert stored.last_modified == stamp
        assert stored.last_modified.utcoffset() == timedelta(0)

    async def test_prefix_matches_whole_segments(self, storage: LocalStorage) -> None:
        for key in ("reports/2026/r1.pdf", "reports/r2.pdf", "reports-old/r0.pdf", "reportsx.pdf"):
            await storage.put(key, b"x")

        keys = [stored.key for stored in await listed(storage, "reports")]

        assert keys == ["reports/2026/r1.pdf", "reports/r2.pdf"]
        assert [stored.key for stored in await listed(storage, "reports/")] == keys
        assert [stored.key for stored in await listed(storage, "reports/2026")] == ["reports/2026/r1.pdf"]

    async def test_a_prefix_naming_a_file_or_nothing_lists_nothing(self, storage: LocalStorage) -> None:
        await storage.put("reports/r1.pdf", b"x")

        assert await listed(storage, "reports/r1.pdf") == []
        assert await listed(storage, "invoices") == []

    @pytest.mark.parametrize("prefix", ["..", "../outside", "/etc", "a//b", "a\\b"])
    async def test_invalid_prefix_is_refused(self, storage: LocalStorage, prefix: str) -> None:
        with pytest.raises(InvalidKey):
            await listed(storage, prefix)

    async def test_directories_and_half_written_files_are_not_listed(self, storage: LocalStorage) -> None:
        await storage.put("reports/r1.pdf", b"x")
        (storage.root / "empty-dir").mkdir()
        (storage.root / "reports" / ".tmp-abc123").write_bytes(b"half")

        assert [stored.key for stored in await listed(storage)] == ["reports/r1.pdf"]

    async def test_files_no_key_can_name_are_skipped(self, storage: LocalStorage) -> None:
        await storage.put("good.txt", b"x")
        (storage.root / "bad\\name.txt").write_bytes(b"x")
        (storage.root / "line\nbreak.txt").write_bytes(b"x")

        assert [stored.key for stored in await listed(storage)] == ["good.txt"]

    async def test_every_listed_key_reads_back(self, storage: LocalStorage) -> None:
        for key in ("a.txt", "photos/März 2026/a b.jpg", ".hidden"):
            await storage.put(key, key.encode())

        for stored in await listed(storage):
            assert await storage.get(stored.key) == stored.key.encode()

    async def test_a_retention_sweep_deletes_only_what_is_past_the_cutoff(self, storage: LocalStorage) -> None:
        await storage.put("reports/old.pdf", b"x")
        await storage.put("reports/new.pdf", b"x")
        month_ago = (datetime.now(UTC) - timedelta(days=30)).timestamp()
        os.utime(storage.path_for("reports/old.pdf"), (month_ago, month_ago))
        cutoff = datetime.now(UTC) - timedelta(days=7)

        for stored in await listed(storage, "reports"):
            if stored.last_modified < cutoff:
                assert await storage.delete(stored.key) is True

        assert [stored.key for stored in await listed(storage)] == ["reports/new.pdf"]


class TestAtomicPut:
    async def test_no_temporary_files_are_left_behind(self, storage: LocalStorage) -> None:
        for i in range(5):
            await storage.put(f"dir/file-{i}.bin", bytes([i]) * 1000)
        await storage.put("dir/file-0.bin", b"rewritten")

        assert files_under(storage.root) == [f"dir/file-{i}.bin" for i in range(5)]

    async def test_a_failed_write_removes_its_temporary_file(self, storage: LocalStorage) -> None:
        await storage.put("taken/inner.txt", b"x")

        # The final rename fails: a directory already sits where the file should go.
        with pytest.raises(OSError, match="directory"):
            await storage.put("taken", b"y")

        assert files_under(storage.root) == ["taken/inner.txt"]
        assert await storage.get("taken/inner.txt") == b"x"


def split_link(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    return unquote(parts.path), query


class TestUrlSignerLinks:
    def test_link_points_at_the_files_endpoint_on_the_base_url(self, signer: UrlSigner) -> None:
        url = signer.sign("reports/r1.pdf")

        assert url.startswith(f"{BASE_URL}{FILES_PATH}/reports/r1.pdf?")

    def test_link_carries_expiry_and_a_hex_signature(self, signer: UrlSigner, clock: FrozenClock) -> None:
        _, query = split_link(signer.sign("reports/r1.pdf"))

        assert int(query["expires"]) == int(clock.now().timestamp()) + 3600
        assert re.fullmatch(r"[0-9a-f]{64}", query["signature"])
        assert "filename" not in query

    def test_custom_ttl_sets_the_expiry(self, signer: UrlSigner, clock: FrozenClock) -> None:
        _, query = split_link(signer.sign("r.pdf", ttl_seconds=60))

        assert int(query["expires"]) == int(clock.now().timestamp()) + 60

    def test_key_and_filename_are_quoted_and_come_back_intact(self, signer: UrlSigner) -> None:
        key = "photos/März 2026/a&b?#.jpg"
        filename = "Report & Photos März.pdf"

        path, query = split_link(signer.sign(key, filename=filename))

        assert path == f"{FILES_PATH}/{key}"
        assert query["filename"] == filename

    def test_signature_is_deterministic(self, signer: UrlSigner) -> None:
        assert signer.sign("a.pdf", filename="x.pdf") == signer.sign("a.pdf", filename="x.pdf")


class TestUrlSignerVerify:
    def signed(self, signer: UrlSigner, key: str, filename: str | None = None) -> tuple[int, str]:
        _, query = split_link(signer.sign(key, filename=filename))
        return int(query["expires"]), query["signature"]

    def test_fresh_link_verifies(self, signer: UrlSigner) -> None:
        expires, signature = self.signed(signer, "reports/r1.pdf", "Report.pdf")

        assert signer.verify("reports/r1.pdf", expires, signature, "Report.pdf") is None

    def test_tampered_signature_is_refused(self, signer: UrlSigner) -> None:
        expires, signature = self.signed(signer, "r.pdf")
        tampered = ("0" if signature[0] != "0" else "1") + signature[1:]

        assert "signature" in (signer.verify("r.pdf", expires, tampered) or "")

    def test_other_key_is_refused(self, signer: UrlSigner) -> None:
        expires, signature = self.signed(signer, "reports/mine.pdf")

        assert signer.verify("reports/yours.pdf", expires, signature) is not None

    def test_extended_expiry_is_refused(self, signer: UrlSigner) -> None:
        expires, signature = self.signed(signer, "r.pdf")

        assert signer.verify("r.pdf", expires + 86400, signature) is not None

    def test_changed_filename_is_refused(self, signer: UrlSigner) -> None:
        expires, signature = self.signed(signer, "r.pdf", "Report.pdf")

        assert signer.verify("r.pdf", expires, signature, "Invoice.pdf") is not None
        assert signer.verify("r.pdf", expires, signature, None) is not None

    def test_added_filename_is_refused(self, signer: UrlSigner) -> None:
        expires, signature = self.signed(signer, "r.pdf")

        assert signer.verify("r.pdf", expires, signature, "evil.html") is not None

    def test_link_signed_with_another_key_is_refused(self, clock: FrozenClock) -> None:
        other = make_signer(clock, key=b"another-signing-key")
        expires, signature = self.signed(other, "r.pdf")

        assert make_signer(clock).verify("r.pdf", expires, signature) is not None

    def test_link_expires_after_its_ttl(self, signer: UrlSigner, clock: FrozenClock) -> None:
        expires, signature = self.signed(signer, "r.pdf")
        clock.advance(3601)

        assert "expired" in (signer.verify("r.pdf", expires, signature) or "")

    def test_link_is_still_valid_at_its_expiry_second(self, signer: UrlSigner, clock: FrozenClock) -> None:
        expires, signature = self.signed(signer, "r.pdf")
        clock.advance(3600)

        assert signer.verify("r.pdf", expires, signature) is None

    def test_non_ascii_signature_is_refused_not_raised(self, signer: UrlSigner) -> None:
        expires, _ = self.signed(signer, "r.pdf")

        assert signer.verify("r.pdf", expires, "é" * 64) is not None

    def test_storage_signs_the_normalized_key(self, storage: LocalStorage) -> None:
        path, query = split_link(storage.signed_url("reports/r1.pdf", filename="R.pdf"))

        assert path == f"{FILES_PATH}/reports/r1.pdf"
        assert storage.signer.verify("reports/r1.pdf", int(query["expires"]), query["signature"], "R.pdf") is None

    def test_storage_refuses_to_sign_an_invalid_key(self, storage: LocalStorage) -> None:
        with pytest.raises(InvalidKey):
            storage.signed_url("../outside.txt")

    def test_expiry_is_judged_by_the_signer_clock(self, signer: UrlSigner, clock: FrozenClock) -> None:
        later = FrozenClock()
        later.advance(7200)
        expires, signature = self.signed(signer, "r.pdf")

        assert dataclasses.replace(signer, clock=later).verify("r.pdf", expires, signature) is not None


class TestOpenStorage:
    def test_plain_absolute_path(self, tmp_path: Path, signer: UrlSigner) -> None:
        storage = open_storage(str(tmp_path / "files"), signer)

        assert storage.root == tmp_path / "files"
        assert storage.signer is signer

    def test_plain_relative_path(self, signer: UrlSigner) -> None:
        assert open_storage("var/storage", signer).root == Path("var/storage")

    def test_home_is_expanded(self, signer: UrlSigner) -> None:
        assert open_storage("~/carpulse-files", signer).root == Path.home() / "carpulse-files"

    def test_file_url(self, tmp_path: Path, signer: UrlSigner) -> None:
        assert open_storage(f"file://{tmp_path}/files", signer).root == tmp_path / "files"

    def test_file_url_is_percent_decoded(self, signer: UrlSigner) -> None:
        assert open_storage("file:///srv/car%20pulse/files", signer).root == Path("/srv/car pulse/files")

    def test_file_url_with_localhost_authority(self, signer: UrlSigner) -> None:
        # RFC 8089: file://localhost/path is the same file as file:///path.
        assert open_storage("file://localhost/srv/carpulse", signer).root == Path("/srv/carpulse")

    @pytest.mark.parametrize("url", ["https://storage.example/x", "ftp://files.example/x", "azure://container"])
    def test_unsupported_scheme_is_refused(self, url: str, signer: UrlSigner) -> None:
        scheme = url.split(":", 1)[0]
        with pytest.raises(ValueError, match=f"'{scheme}' is not supported; use a local path, file://, s3://"):
            open_storage(url, signer)

    @pytest.mark.parametrize(("url", "name"), [("s3://bucket/prefix", "s3"), ("gs://bucket", "gcs")])
    def test_bucket_schemes_open_object_storage(self, url: str, name: str, signer: UrlSigner) -> None:
        storage = open_storage(url, signer)

        assert isinstance(storage, ObjectStorage)
        assert storage.name == name

    async def test_opened_storage_works(self, tmp_path: Path, signer: UrlSigner) -> None:
        storage = open_storage(f"file://{tmp_path}/files", signer)
        await storage.put("a.txt", b"x")

        assert (tmp_path / "files" / "a.txt").read_bytes() == b"x"


class TestStoragePing:
    async def test_ping_creates_a_missing_root(self, tmp_path: Path, signer: UrlSigner) -> None:
        storage = LocalStorage(tmp_path / "new" / "root", signer)

        await storage.ping()

        assert (tmp_path / "new" / "root").is_dir()

    async def test_ping_of_an_existing_root_succeeds(self, storage: LocalStorage) -> None:
        storage.root.mkdir(parents=True)

        assert await storage.ping() is None

    async def test_ping_fails_when_the_root_is_below_a_regular_file(self, tmp_path: Path, signer: UrlSigner) -> None:
        (tmp_path / "blocker").write_bytes(b"not a directory")
        storage = LocalStorage(tmp_path / "blocker" / "storage", signer)

        with pytest.raises(NotADirectoryError):
            await storage.ping()

    async def test_ping_fails_when_the_root_is_a_regular_file(self, tmp_path: Path, signer: UrlSigner) -> None:
        (tmp_path / "root").write_bytes(b"not a directory")
        storage = LocalStorage(tmp_path / "root", signer)

        with pytest.raises(FileExistsError):
            await storage.ping()
