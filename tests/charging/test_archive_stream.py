"""The streaming machinery on its own: bounded fetching, back-pressure from a slow reader, stopping on an
account-wide failure, and no fetch left running once the reader goes away."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Mapping

from carpulse.charging.archive import ArchivedInvoice, stream_invoices
from carpulse.provider.errors import ProviderUnavailable, ReauthorizationRequired
from carpulse.provider.tesla.errors import TeslaRateLimited, TeslaUnavailable


def invoices(count: int) -> list[ArchivedInvoice]:
    return [ArchivedInvoice(f"id-{n}", f"invoice-{n:03d}.pdf", f"session {n}") for n in range(count)]


def ledger(missing: Mapping[str, str]) -> bytes:
    return "".join(f"{key}: {reason}\n" for key, reason in sorted(missing.items())).encode()


class Tesla:
    """A fetch that counts what is in flight and can be told to fail."""

    def __init__(self, delay: float = 0.001, failing: Mapping[str, Exception] | None = None) -> None:
        self.delay = delay
        self.failing = dict(failing or {})
        self.started = 0
        self.finished = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def fetch(self, invoice_id: str) -> bytes:
        self.started += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if invoice_id in self.failing:
                raise self.failing[invoice_id]
            return b"%PDF-1.4 " + invoice_id.encode() * 200
        finally:
            self.in_flight -= 1
            self.finished += 1


async def read_all(chunks: object) -> bytes:
    assert hasattr(chunks, "__aiter__")
    return b"".join([chunk async for chunk in chunks])  # type: ignore[attr-defined]


class TestBoundedAndComplete:
    async def test_every_invoice_once_never_more_than_the_bound_at_a_time(self) -> None:
        tesla = Tesla()

        body = await read_all(stream_invoices(invoices(60), tesla.fetch, ledger, source="Tesla", concurrency=7))

        archive = zipfile.ZipFile(io.BytesIO(body))
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == sorted([f"invoice-{n:03d}.pdf" for n in range(60)] + ["ledger.csv"])
        assert archive.read("invoice-042.pdf") == b"%PDF-1.4 " + b"id-42" * 200
        assert archive.getinfo("invoice-042.pdf").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("ledger.csv").compress_type == zipfile.ZIP_DEFLATED
        assert tesla.started == 60
        assert tesla.most_in_flight == 7

    async def test_folders_come_first_and_an_empty_archive_is_still_a_zip(self) -> None:
        chunks = [
            chunk
            async for chunk in stream_invoices([], Tesla().fetch, ledger, source="Tesla", folders=["A-1/", "B-2/"])
        ]

        archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
        assert archive.namelist() == ["A-1/", "B-2/", "ledger.csv"]
        assert len(chunks) == 2


class TestBackPressure:
    async def test_a_reader_that_stops_reading_stops_the_fetching(self) -> None:
        tesla = Tesla()
        stream = stream_invoices(invoices(500), tesla.fetch, ledger, source="Tesla", concurrency=5)

        first = await anext(stream)
        await asyncio.sleep(0.2)  # long enough to fetch all 500 if nothing held the workers back

        assert first.startswith(b"PK\x03\x04")
        assert tesla.started <= 1 + 5 + 5  # the one written, a full hand-over queue, one in each worker's hands
        await stream.aclose()


class TestReaderGoesAway:
    async def test_closing_the_stream_cancels_the_fetches_in_flight(self) -> None:
        tesla = Tesla(delay=10)
        quick = Tesla(delay=0)
        stream = stream_invoices(
            invoices(50),
            lambda key: quick.fetch(key) if key == "id-0" else tesla.fetch(key),
            ledger,
            source="Tesla",
            concurrency=4,
        )

        await anext(stream)
        await asyncio.sleep(0.01)
        assert tesla.in_flight == 4  # the worker that fetched id-0 has moved on to the next
        await stream.aclose()

        assert tesla.in_flight == 0
        assert tesla.finished == tesla.started == 4  # cancelled, not left running; nothing new started


class TestFailures:
    async def test_a_failed_invoice_is_reported_and_the_rest_still_written(self) -> None:
        tesla = Tesla(failing={"id-3": TeslaUnavailable("Tesla answered 503 after 4 attempts.")})

        body = await read_all(stream_invoices(invoices(10), tesla.fetch, ledger, source="Tesla", concurrency=3))

        archive = zipfile.ZipFile(io.BytesIO(body))
        assert "invoice-003.pdf" not in archive.namelist()
        assert len([name for name in archive.namelist() if name.endswith(".pdf")]) == 9
        assert archive.read("ledger.csv") == b"id-3: Tesla is unavailable: Tesla answered 503 after 4 attempts.\n"
        errors = archive.read("errors.txt").decode()
        assert errors.splitlines()[0] == "1 of 10 invoices could not be fetched from Tesla and are not in this archive."
        assert "invoice-003.pdf (invoice id-3, session 3): Tesla is unavailable: Tesla answered 503" in errors

    async def test_an_account_wide_failure_stops_asking_tesla(self) -> None:
        limited = TeslaRateLimited("Tesla asks us to wait 3600 s before calling again for this account.")
        tesla = Tesla(failing={"id-0": limited})

        body = await read_all(stream_invoices(invoices(100), tesla.fetch, ledger, source="Tesla", concurrency=1))

        archive = zipfile.ZipFile(io.BytesIO(body))
        assert tesla.started == 1
        assert [name for name in archive.namelist() if name.endswith(".pdf")] == []
        lines = archive.read("ledger.csv").decode().splitlines()
        assert len(lines) == 100
        assert lines[0] == f"id-0: Tesla is rate-limiting requests: {limited.detail}"
        assert lines[1].startswith("id-1: not fetched after an earlier failure: Tesla is rate-limiting requests")

    async def test_an_unexpected_error_costs_one_invoice_not_the_archive(self) -> None:
        tesla = Tesla(failing={"id-1": RuntimeError("a bug")})

        body = await read_all(stream_invoices(invoices(3), tesla.fetch, ledger, source="Tesla", concurrency=2))

        archive = zipfile.ZipFile(io.BytesIO(body))
        assert len([name for name in archive.namelist() if name.endswith(".pdf")]) == 2
        assert b"a bug" not in body
        assert archive.read("ledger.csv") == b"id-1: an unexpected error on our side; it has been logged\n"


class TestAnyBrand:
    async def test_errors_txt_names_the_brand_that_serves_the_invoices(self) -> None:
        brand = Tesla(failing={"id-2": ProviderUnavailable("Acme answered 503.")})

        body = await read_all(stream_invoices(invoices(4), brand.fetch, ledger, source="Acme", concurrency=2))

        errors = zipfile.ZipFile(io.BytesIO(body)).read("errors.txt").decode()
        assert errors.splitlines()[0] == "1 of 4 invoices could not be fetched from Acme and are not in this archive."

    async def test_a_neutral_account_wide_failure_stops_asking_too(self) -> None:
        brand = Tesla(failing={"id-0": ReauthorizationRequired("Acme revoked the connection.")})

        body = await read_all(stream_invoices(invoices(20), brand.fetch, ledger, source="Acme", concurrency=1))

        lines = zipfile.ZipFile(io.BytesIO(body)).read("ledger.csv").decode().splitlines()
        assert brand.started == 1
        assert lines[1].startswith("id-1: not fetched after an earlier failure: Connect your account again")
