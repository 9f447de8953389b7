"""A credit note rendered for people: the receipt's layout, its own title and number, the receipt it cancels,
negative amounts with the receipt's VAT breakdown, in every language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from carpulse.kit.documents import shutdown_pdf_pool
from carpulse.kit.i18n import LOCALES, translate
from carpulse.receipt.document import credit_note_view, render_credit_note_html, render_credit_note_pdf
from carpulse.receipt.schemas import CreditNote
from tests.kit.test_documents import normalize_spaces, pdf_text
from tests.kit.test_i18n import raw_message_ids
from tests.receipt.test_receipt_document import make_receipt, visible_text


def make_credit_note(locale: str = "fi") -> CreditNote:
    receipt = make_receipt(locale=locale)
    return CreditNote(
        id="hyv_1a2b3c",
        number="HYV-2026-000007",
        receipt_id=receipt.id,
        receipt_number=receipt.number,
        order_reference=receipt.order_reference,
        issued_at=datetime(2026, 3, 7, 9, 0, tzinfo=UTC),
        locale=locale,
        reason="The car stayed asleep or offline for 24 h after the order.",
        seller=receipt.seller,
        lines=[
            line.model_copy(
                update={k: -getattr(line, k) for k in ("unit_gross_cents", "net_cents", "vat_cents", "gross_cents")}
            )
            for line in receipt.lines
        ],
        discount_cents=0,
        net_cents=-receipt.net_cents,
        vat_rate=receipt.vat_rate,
        vat_cents=-receipt.vat_cents,
        gross_cents=-receipt.gross_cents,
        currency=receipt.currency,
        payment_method=receipt.payment_method,
        payment_provider=receipt.payment_provider,
        refund_reference="re_3QzFakeRefund",
    )


@pytest.fixture(scope="module", autouse=True)
def pdf_pool() -> Iterator[None]:
    yield
    shutdown_pdf_pool()


class TestCreditNoteView:
    def test_negative_amounts_and_the_receipt_it_cancels(self) -> None:
        view = credit_note_view(make_credit_note())

        assert view.number == "HYV-2026-000007"
        assert view.credits_receipt == "2026-000123"
        assert normalize_spaces(view.gross).replace("\u2212", "-") == "-19,00 €"
        assert normalize_spaces(view.vat).replace("\u2212", "-") == "-3,86 €"
        assert normalize_spaces(view.vat_rate) == "25,5 %"
        assert view.payment_reference == "re_3QzFakeRefund"
        assert view.issued_on == "7. maaliskuuta 2026"


class TestCreditNoteDocument:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_every_locale_titles_it_a_credit_note(self, locale: str) -> None:
        html = render_credit_note_html(make_credit_note(locale))
        text = visible_text(html)

        title = translate(locale, "credit_note.title")
        assert f"<h1>{title}</h1>" in html
        assert f"<title>{title} HYV-2026-000007</title>" in html
        assert f"<h1>{translate(locale, 'receipt.title')}</h1>" not in html
        assert translate(locale, "credit_note.number") in text
        assert translate(locale, "credit_note.original") in text
        assert "2026-000123" in text
        assert raw_message_ids(html) == []
        if locale != "en":
            assert title != translate("en", "credit_note.title")

    async def test_finnish_pdf(self) -> None:
        text = pdf_text(await render_credit_note_pdf(make_credit_note()))

        assert "Hyvityslasku" in text
        assert "HYV-2026-000007" in text
        assert "Hyvitettävä kuitti" in text
        assert raw_message_ids(text) == []
