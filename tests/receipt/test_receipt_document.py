"""A receipt rendered for people: view model per locale, HTML, PDF."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from carpulse.kit.documents import shutdown_pdf_pool
from carpulse.kit.i18n import LOCALES, translate
from carpulse.receipt.document import (
    PAYMENT_METHOD_MESSAGES,
    RECEIPT_KIND_MESSAGES,
    receipt_kind,
    receipt_view,
    render_receipt_html,
    render_receipt_pdf,
)
from carpulse.receipt.schemas import Receipt, ReceiptLine, Seller
from tests.kit.test_documents import normalize_spaces, pdf_text, poppler_text
from tests.kit.test_i18n import message_ids, raw_message_ids

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'

TOTAL_19_EUR = {
    "en": "€19.00",
    "fi": "19,00 €",
    "sv": "19,00 €",
    "no": "19,00 €",
    "da": "19,00 €",
    "de": "19,00 €",
    "fr": "19,00 €",
    "es": "19,00 €",
    "it": "19,00 €",
}
VAT_RATE = {
    "en": "25.5%",
    "fi": "25,5 %",
    "sv": "25,5 %",
    "no": "25,5 %",
    "da": "25,5 %",
    "de": "25,5 %",
    "fr": "25,5 %",
    "es": "25,5 %",
    "it": "25,5%",
}


def make_receipt(**changes: Any) -> Receipt:
    """The Basic plan, 19.00 € VAT included (1514 net + 386 VAT at 25.5 %), paid by card through Stripe."""
    fields: dict[str, Any] = {
        "id": "rcp_9f1c2d",
        "number": "2026-000123",
        "order_reference": "CP-5B7E0A11C0DE",
        "issued_at": datetime(2026, 3, 5, 12, 30, tzinfo=UTC),
        "locale": "fi",
        "seller": Seller(
            name="Car Pulse Oy",
            address="Esimerkkikatu 1, 00100 Helsinki, Finland",
            y_tunnus="1234567-8",
            vat_number="FI12345678",
            email="billing@carpulsetracker.com",
            website="https://carpulsetracker.com",
        ),
        "lines": [
            ReceiptLine(
                description="Vehicle report, Basic (Model 3, ***000316)",
                quantity=1,
                unit_gross_cents=1900,
                net_cents=1514,
                vat_cents=386,
                gross_cents=1900,
            )
        ],
        "discount_cents": 0,
        "net_cents": 1514,
        "vat_rate": Decimal("25.5"),
        "vat_cents": 386,
        "gross_cents": 1900,
        "currency": "EUR",
        "payment_method": "card",
        "payment_provider": "stripe",
        "payment_reference": "pi_3QzFakeA1b2C3d4E5f6G7h8",
    }
    fields.update(changes)
    return Receipt(**fields)


def visible_text(html: str) -> str:
    """The text a reader sees: tags, the style sheet and the title dropped, entities left as written."""
    body = re.sub(r"<style.*?</style>|<title>.*?</title>", " ", html, flags=re.S)
    return normalize_spaces(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture(scope="module", autouse=True)
def pdf_pool() -> Iterator[None]:
    yield
    shutdown_pdf_pool()


class TestReceiptView:
    def test_values_formatted_for_finnish(self) -> None:
        view = receipt_view(make_receipt())

        assert normalize_spaces(view.gross) == "19,00 €"
        assert normalize_spaces(view.net) == "15,14 €"
        assert normalize_spaces(view.vat) == "3,86 €"
        assert normalize_spaces(view.vat_rate) == "25,5 %"
        assert view.issued_on == "5. maaliskuuta 2026"
        assert view.payment_method == "Maksukortti"
        assert view.payment_provider == "Stripe"
        assert (view.seller.y_tunnus, view.seller.vat_number) == ("1234567-8", "FI12345678")
        assert view.lang == "fi"

    def test_values_formatted_for_english(self) -> None:
        view = receipt_view(make_receipt(locale="en"))

        assert (view.gross, view.vat_rate, view.issued_on) == ("€19.00", "25.5%", "March 5, 2026")
        assert view.payment_method == "Card"

    def test_line_amounts(self) -> None:
        line = receipt_view(make_receipt(locale="de")).lines[0]

        assert line.quantity == "1"
        assert [normalize_spaces(v) for v in (line.unit_price, line.net, line.vat, line.gross)] == [
            "19,00 €",
            "15,14 €",
            "3,86 €",
            "19,00 €",
        ]

    def test_date_of_issue_is_the_date_in_finland(self) -> None:
        view = receipt_view(make_receipt(issued_at=datetime(2026, 12, 31, 22, 30, tzinfo=UTC)))

        assert view.issued_on == "1. tammikuuta 2027"

    def test_norwegian_is_bokmal(self) -> None:
        view = receipt_view(make_receipt(locale="no"))

        assert view.lang == "nb"
        assert view.issued_on == "5. mars 2026"
        assert view.payment_method == "Kort"

    def test_unknown_locale_renders_english(self) -> None:
        view = receipt_view(make_receipt(locale="pt-BR"))

        assert (view.locale, view.gross) == ("en", "€19.00")

    @pytest.mark.parametrize(
        ("method", "provider", "locale", "label"),
        [
            ("card", "stripe", "sv", "Kort"),
            ("sepa_debit", "stripe", "de", "SEPA-Lastschrift"),
            ("mobilepay", "stripe", "fi", "MobilePay"),
            ("apple_pay", "stripe", "fr", "Apple Pay"),
            ("google_pay", "stripe", "it", "Google Pay"),
            (None, "paypal", "da", "PayPal"),
            ("paypal", "paypal", "es", "PayPal"),
            ("ideal", "stripe", "en", "Ideal"),
        ],
    )
    def test_payment_method_label(self, method: str | None, provider: str, locale: str, label: str) -> None:
        view = receipt_view(make_receipt(payment_method=method, payment_provider=provider, locale=locale))

        assert view.payment_method == label

    def test_discount_and_voucher_only_when_there_is_one(self) -> None:
        plain = receipt_view(make_receipt())
        discounted = receipt_view(make_receipt(discount_cents=500, voucher_code="KEVÄT5"))

        assert (plain.discount, plain.voucher_code) == (None, None)
        assert normalize_spaces(discounted.discount or "") == "5,00 €"
        assert discounted.voucher_code == "KEVÄT5"

    @pytest.mark.parametrize(
        ("gross_cents", "currency", "kind"),
        [(1900, "EUR", "simplified"), (40_000, "EUR", "simplified"), (40_001, "EUR", "full"), (1900, "USD", "full")],
    )
    def test_simplified_up_to_400_euros(self, gross_cents: int, currency: str, kind: str) -> None:
        receipt = make_receipt(gross_cents=gross_cents, currency=currency)

        assert receipt_kind(receipt) == kind
        assert receipt_view(receipt).kind_label == translate("fi", RECEIPT_KIND_MESSAGES[kind])

    def test_messages_the_code_looks_up_exist(self) -> None:
        used = set(PAYMENT_METHOD_MESSAGES.values()) | set(RECEIPT_KIND_MESSAGES.values())

        assert sorted(used - message_ids()) == []


class TestReceiptHtml:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_every_locale_is_complete_and_localized(self, locale: str) -> None:
        voucher = ReceiptLine(
            description="SPRING3",
            quantity=1,
            unit_gross_cents=-300,
            net_cents=-239,
            vat_cents=-61,
            gross_cents=-300,
            kind="voucher",
            voucher_code="SPRING3",
        )
        lines = [*make_receipt().lines, voucher]
        html = render_receipt_html(make_receipt(locale=locale, lines=lines, discount_cents=300, voucher_code="SPRING3"))
        text = visible_text(html)

        assert raw_message_ids(html) == []
        assert TOTAL_19_EUR[locale] in text
        assert VAT_RATE[locale] in text
        assert translate(locale, "receipt.title") in text
        assert translate(locale, "receipt.kind.simplified") in text
        assert translate(locale, "receipt.business_id") in text
        assert "2026-000123" in text
        assert "1234567-8" in text
        assert "FI12345678" in text
        assert "SPRING3" in text
        assert "pi_3QzFakeA1b2C3d4E5f6G7h8" in text

    def test_hostile_text_is_escaped(self) -> None:
        receipt = make_receipt(
            lines=[make_receipt().lines[0].model_copy(update={"description": HOSTILE})],
            voucher_code=HOSTILE,
            payment_reference=HOSTILE,
            seller=make_receipt().seller.model_copy(update={"name": 'Evil & Co "Oy" <b>'}),
        )

        html = render_receipt_html(receipt)

        assert "<script" not in html
        assert "<img" not in html
        assert "<b>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        assert "Evil &amp; Co &#34;Oy&#34; &lt;b&gt;" in html

    def test_self_contained(self) -> None:
        html = render_receipt_html(make_receipt())

        assert re.search(r"\b(?:src|href)\s*=", html) is None
        assert "@import" not in html
        assert "url(" not in html
        assert "@font-face" not in html

    def test_html_lang_and_title(self) -> None:
        html = render_receipt_html(make_receipt(locale="no"))

        assert '<html lang="nb">' in html
        assert "<title>Kvittering 2026-000123</title>" in html

    def test_full_invoice_over_400_euros(self) -> None:
        html = render_receipt_html(make_receipt(locale="en", gross_cents=48_000))

        assert "VAT invoice" in visible_text(html)
        assert "Simplified invoice" not in visible_text(html)

    def test_several_lines(self) -> None:
        line = make_receipt().lines[0]
        lines = [line.model_copy(update={"description": f"Vehicle report {n}"}) for n in range(1, 4)]

        text = visible_text(render_receipt_html(make_receipt(lines=lines, locale="en")))

        assert all(f"Vehicle report {n}" in text for n in range(1, 4))


class TestReceiptPdf:
    async def test_finnish_pdf(self) -> None:
        pdf = await render_receipt_pdf(make_receipt())
        text = pdf_text(pdf)

        assert pdf.startswith(b"%PDF-")
        for phrase in ("Kuitti", "2026-000123", "1234567-8", "FI12345678", "19,00 €", "ALV 25,5 %", "Maksukortti"):
            assert phrase in text
        assert raw_message_ids(text) == []

    async def test_every_locale_renders_concurrently(self) -> None:
        receipts = [make_receipt(locale=locale) for locale in LOCALES]

        pdfs = await asyncio.gather(*(render_receipt_pdf(receipt) for receipt in receipts))

        for locale, pdf in zip(LOCALES, pdfs, strict=True):
            text = pdf_text(pdf)
            assert pdf.startswith(b"%PDF-")
            assert "2026-000123" in text, locale
            assert "1234567-8" in text, locale
            assert TOTAL_19_EUR[locale] in text, locale
            assert translate(locale, "receipt.title") in text, locale
            assert raw_message_ids(text) == [], locale

    async def test_hostile_text_is_printed_not_interpreted(self) -> None:
        receipt = make_receipt(lines=[make_receipt().lines[0].model_copy(update={"description": HOSTILE})])

        assert '<script>alert("x")</script>' in pdf_text(await render_receipt_pdf(receipt))

    async def test_pdftotext_agrees(self) -> None:
        pdf = await render_receipt_pdf(make_receipt(locale="sv"))
        text = poppler_text(pdf)
        if text is None:
            pytest.skip("poppler-utils not installed")

        assert "2026-000123" in text
        assert "1234567-8" in text
        assert "19,00 €" in text
        assert "Kvitto" in text
        assert raw_message_ids(text) == []
