"""The receipt's PDF holds its layout: the longest seller details the settings allow wrap inside the page's
content box, in every locale."""

from __future__ import annotations

import os
import re
from pathlib import Path

import annotated_types
import pytest
from pydantic import ValidationError

from carpulse.config import CompanySettings
from carpulse.kit.documents import render_pdf
from carpulse.kit.i18n import LOCALES
from carpulse.models.receipt import Receipt as ReceiptRow
from carpulse.receipt.document import render_receipt_html
from carpulse.receipt.schemas import Seller
from tests.kit.page_box import Layout, heading_texts, page_box
from tests.receipt.test_receipt_document import make_receipt

# The receipt's running footer: page N / M (read without spaces).
FOOTER = re.compile(r"\d+/\d+")
PAGE_IMAGES = os.environ.get("CARPULSE_TEST_PAGE_IMAGES")


def max_length(field: str) -> int:
    limits = [
        m.max_length for m in CompanySettings.model_fields[field].metadata if isinstance(m, annotated_types.MaxLen)
    ]
    assert limits, f"CompanySettings.{field} has no max_length"
    return limits[0]


def filled(field: str, start: str = "", end: str = "", filler: str = "W") -> str:
    """A value of exactly the field's maximum length with no place to break: the worst case for the layout."""
    return start + filler * (max_length(field) - len(start) - len(end)) + end


def longest_company() -> CompanySettings:
    return CompanySettings(
        name=filled("name"),
        address=filled("address"),
        y_tunnus=filled("y_tunnus", filler="9"),
        vat_number=filled("vat_number", start="FI", filler="9"),
        email=filled("email", end="@carpulse.fi", filler="m"),
        website=filled("website", start="https://", filler="w"),
    )


class TestLongestSeller:
    def test_the_settings_allow_these_values_and_no_longer(self) -> None:
        company = longest_company()

        for field in ("name", "address", "y_tunnus", "vat_number", "email", "website"):
            assert len(getattr(company, field)) == max_length(field)
            with pytest.raises(ValidationError):
                CompanySettings(**{field: getattr(company, field) + "W"})


class TestReceiptPageBox:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_longest_seller_details_stay_on_the_page(self, locale: str) -> None:
        company = longest_company()
        voucher = "V" * ReceiptRow.__table__.c.voucher_code.type.length
        receipt = make_receipt(
            locale=locale, seller=Seller(**company.model_dump()), voucher_code=voucher, discount_cents=190
        )
        html = render_receipt_html(receipt)
        pdf = render_pdf(html)
        layout = Layout.read(pdf)
        if PAGE_IMAGES:
            layout.save_images(pdf, Path(PAGE_IMAGES), f"receipt-longest-seller-{locale}")
        box = page_box(html)

        assert layout.outside(box, FOOTER) == []
        assert layout.headings_left_alone(box, heading_texts(html)) == []
        # A receipt has no forced page breaks: a page that ends early means a block was pushed to the next one.
        _, upper, _, lower = box.content
        for page in layout.pages[:-1]:
            filled_to = max(line["bottom"] for line in page["lines"] if line["bottom"] <= lower)
            assert filled_to - upper > 0.75 * (lower - upper), f"page {page['number']} ends at {filled_to:.0f} pt"
