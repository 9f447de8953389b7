"""A receipt shows every discount as its own line with its code, the VAT after the discounts, and the vehicles sold."""

from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from carpulse.kit.i18n import LOCALES, format_money, translate
from carpulse.kit.money import split_lines_inclusive
from carpulse.models.voucher import VoucherKind
from carpulse.pricing.catalog import PackageCode
from carpulse.pricing.service import VoucherTerms, price
from carpulse.receipt.document import render_receipt_html
from carpulse.receipt.schemas import Receipt
from tests.kit.page_box import Layout
from tests.kit.test_documents import normalize_spaces, pdf_text
from tests.payment.flow import act_on_hosted_page, checkout, order, settle
from tests.pricing.test_pricing_http import create_voucher
from tests.receipt.test_receipt_document import visible_text

# Set to a directory to keep the voucher receipt's pages as PNGs to look at.
PAGE_IMAGES = os.environ.get("CARPULSE_TEST_PAGE_IMAGES")


async def paid_receipt(client: httpx.AsyncClient, app: FastAPI, **quote_options: Any) -> dict[str, Any]:
    intent = await checkout(client, "stripe", **quote_options)
    assert (await act_on_hosted_page(client, intent["redirect_url"], "pay")).status_code in (302, 303)
    await settle(app)
    receipt_id = (await order(client, intent["order_id"]))["receipt_id"]
    response = await client.get(f"/api/v1/payment/receipt/{receipt_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.usefixtures("committed_app")
class TestVoucherLine:
    async def test_the_discount_is_a_line_with_the_code_and_vat_is_after_it(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient, admin_token_committed: str
    ) -> None:
        await create_voucher(committed_client, admin_token_committed, code="KEVAT2026", percent_off="10")

        receipt = await paid_receipt(
            committed_client, committed_app, package="bulk", account="family", voucher="KEVAT2026"
        )

        package, voucher = receipt["lines"]
        assert (package["kind"], package["gross_cents"]) == ("package", 14900)
        assert (voucher["kind"], voucher["voucher_code"], voucher["gross_cents"]) == ("voucher", "KEVAT2026", -1490)
        assert receipt["gross_cents"] == 13410
        (part,) = receipt["vat_breakdown"]
        assert (part["net_cents"], part["vat_cents"], part["gross_cents"]) == (
            receipt["net_cents"],
            receipt["vat_cents"],
            receipt["gross_cents"],
        )
        assert part["net_cents"] == 10685  # 134.10 / 1.255, half up
        assert sum(line["net_cents"] for line in receipt["lines"]) == part["net_cents"]
        assert sum(line["vat_cents"] for line in receipt["lines"]) == part["vat_cents"]

        document = Receipt.model_validate(receipt)
        text = visible_text(render_receipt_html(document))
        locale = receipt["locale"]
        assert translate(locale, "receipt.line.voucher", code="KEVAT2026") in text
        assert normalize_spaces(format_money(-1490, "EUR", locale)) in text
        assert translate(locale, "receipt.vat_breakdown") in text
        assert translate(locale, "receipt.discount") not in text  # "discount included in the prices" was untrue
        pdf = await committed_client.get(f"/api/v1/payment/receipt/{receipt['id']}/pdf")
        assert "KEVAT2026" in pdf_text(pdf.content)
        if PAGE_IMAGES:
            Layout.read(pdf.content).save_images(pdf.content, Path(PAGE_IMAGES), "receipt-voucher-bulk")

    async def test_a_bulk_order_lists_its_vehicles(
        self, committed_app: FastAPI, committed_client: httpx.AsyncClient
    ) -> None:
        receipt = await paid_receipt(committed_client, committed_app, package="bulk", account="family")

        (line,) = receipt["lines"]
        assert len(line["vins"]) == 3
        text = visible_text(render_receipt_html(Receipt.model_validate(receipt)))
        assert translate(receipt["locale"], "receipt.line.vehicles", count=3) in text
        for vin in line["vins"]:
            assert vin in text


class TestNewWords:
    @pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
    def test_translated(self, locale: str) -> None:
        for key in ("receipt.line.volume_discount", "receipt.vat_breakdown", "receipt.vat_rate"):
            assert translate(locale, key) not in (key, translate("en", key))
        assert translate(locale, "receipt.line.voucher", code="X") != translate("en", "receipt.line.voucher", code="X")


RATES = st.sampled_from([Decimal(0), Decimal(10), Decimal(14), Decimal(24), Decimal("25.5")])


class TestVatAfterDiscount:
    @given(
        package=st.sampled_from(list(PackageCode)),
        vehicles=st.integers(min_value=2, max_value=10),
        rate=RATES,
        percent=st.one_of(st.none(), st.decimals(min_value=1, max_value=100, places=1)),
        amount=st.integers(min_value=1, max_value=20_000),
    )
    def test_lines_and_totals_agree_to_the_cent(
        self, package: PackageCode, vehicles: int, rate: Decimal, percent: Decimal | None, amount: int
    ) -> None:
        kind = VoucherKind.percent if percent is not None else VoucherKind.fixed
        voucher = VoucherTerms("CODE", kind, percent, None if percent is not None else amount)
        priced = price(package, vehicles, rate, voucher=voucher)

        splits = split_lines_inclusive([line.gross_cents for line in priced.lines], rate)

        assert sum(split.gross_cents for split in splits) == priced.gross_cents
        assert sum(split.net_cents for split in splits) == priced.net_cents
        assert sum(split.vat_cents for split in splits) == priced.vat_cents
        expected_net = (Decimal(priced.gross_cents) * 100 / (100 + rate)).quantize(Decimal(1), ROUND_HALF_UP)
        assert priced.net_cents == int(expected_net)
        for split, line in zip(splits, priced.lines, strict=True):
            assert split.net_cents + split.vat_cents == split.gross_cents == line.gross_cents
            # Each line's net is its own, half up, but for the cent of rounding that the largest line takes.
            own = (Decimal(line.gross_cents) * 100 / (100 + rate)).quantize(Decimal(1), ROUND_HALF_UP)
            assert abs(split.net_cents - own) <= len(splits)
