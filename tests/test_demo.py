"""`carpulse demo`: the whole sandbox flow from the command line, documents written to a folder."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from carpulse.cli import app
from carpulse.config import get_settings
from carpulse.kit.i18n import format_money, translate
from carpulse.pricing.catalog import PACKAGES, PackageCode

runner = CliRunner()
UUID_OR_TOKEN = r"[A-Za-z0-9_-]{20,}"
RAW_KEY = re.compile(r"\b(?:report|field|battery|format|enum|glossary|receipt)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*\b")


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded defaults, in a folder of the test's own."""
    monkeypatch.setenv("CARPULSE_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'carpulse.db'}")
    monkeypatch.setenv("CARPULSE_STORAGE__URL", str(tmp_path / "storage"))
    monkeypatch.setenv("CARPULSE_TESLA__PUBLIC_KEY_PATH", str(tmp_path / "keys" / "public.pem"))
    monkeypatch.setenv("CARPULSE_TESLA__PRIVATE_KEY_PATH", str(tmp_path / "keys" / "private.pem"))
    monkeypatch.setenv("CARPULSE_SANDBOX__WAKE_DELAY_SECONDS", "0")
    monkeypatch.delenv("CARPULSE_REDIS__URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


class TestDemo:
    @pytest.mark.parametrize(("locale", "package"), [("fi", "pro"), ("sv", "basic")])
    def test_writes_the_report_and_the_receipt(self, embedded: Path, locale: str, package: str) -> None:
        out = embedded / "out"

        result = runner.invoke(app, ["demo", "--locale", locale, "--package", package, "--out", str(out)])

        assert result.exit_code == 0, result.output
        vin = re.search(r"VIN (\w{17})", result.stdout)
        assert vin is not None, result.stdout
        report_pdf = next(out.glob(f"carpulse-report-{vin[1]}-{locale}-*.pdf"))
        report_html = next(out.glob(f"carpulse-report-{vin[1]}-{locale}-*.html"))
        receipt_pdf = next(out.glob("carpulse-receipt-*.pdf"))
        for path in (report_pdf, report_html, receipt_pdf):
            assert str(path) in result.stdout
        text = pdf_text(report_pdf)
        assert vin[1] in text
        assert translate(locale, "report.section.summary") in text
        assert RAW_KEY.findall(text) == []
        assert vin[1] in report_html.read_text(encoding="utf-8")
        assert translate(locale, "receipt.title") in pdf_text(receipt_pdf)
        assert "5/7 report" in result.stdout  # progress on the terminal
        price = format_money(PACKAGES[PackageCode(package)].price_cents, "EUR", locale)
        assert f"3/7 quote: {price} " in result.stdout
        assert " EUR" not in result.stdout

    def test_ids_are_printed_whole_to_go_on_from(self, embedded: Path) -> None:
        out = embedded / "out"

        result = runner.invoke(app, ["demo", "--package", "basic", "--out", str(out)])

        assert result.exit_code == 0, result.output
        assert "…" not in result.stdout
        order = re.search(rf"order ({UUID_OR_TOKEN})", result.stdout)
        assert order is not None, result.stdout
        assert f"GET /api/v1/tesla/report/{order[1]}" in result.stdout
        assert re.search(rf"session {UUID_OR_TOKEN}", result.stdout)
        assert re.search(rf"receipt {UUID_OR_TOKEN}", result.stdout)

    def test_bulk_picks_an_account_with_several_cars(self, embedded: Path) -> None:
        out = embedded / "out"

        result = runner.invoke(app, ["demo", "--package", "bulk", "--out", str(out)])

        assert result.exit_code == 0, result.output
        assert "'family'" in result.stdout
        vins = set(re.findall(r"VIN (\w{17})", result.stdout))
        assert len(vins) >= 2
        for vin in vins:
            assert next(out.glob(f"carpulse-report-{vin}-en-pro.pdf"))
        assert f"3/7 quote: {format_money(PACKAGES[PackageCode.bulk].price_cents, 'EUR', 'en')} " in result.stdout

    def test_the_account_is_chosen_with_account(self, embedded: Path) -> None:
        result = runner.invoke(app, ["demo", "--package", "bulk", "--account", "solo", "--out", str(embedded / "out")])

        assert result.exit_code == 1
        assert "'solo'" in result.stdout
        assert "--account family" in result.output

    def test_bad_options_are_refused(self, embedded: Path) -> None:
        result = runner.invoke(app, ["demo", "--locale", "pt", "--out", str(embedded / "out")])

        assert result.exit_code == 2
        assert "--locale" in result.output
