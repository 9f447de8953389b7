"""A receipt as a document: `Receipt` → view model (every value formatted for the locale) → HTML → PDF."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal
from zoneinfo import ZoneInfo

from carpulse.kit.documents import render_html, render_pdf_off_loop
from carpulse.kit.i18n import (
    babel_locale,
    format_date,
    format_money,
    format_number,
    format_percent,
    resolve_locale,
    translate,
)
from carpulse.receipt.schemas import CreditNote, Receipt, ReceiptLine

TEMPLATE = "receipt.html"
# The seller is Finnish: the date of issue is the date in Finland, whatever the reader's zone.
SELLER_TIME_ZONE = ZoneInfo("Europe/Helsinki")
# A simplified invoice is enough up to 400 € VAT included (AVL; VAT Directive art. 226b).
SIMPLIFIED_LIMIT_CENTS = 40_000
SIMPLIFIED_CURRENCY = "EUR"

# Payment methods whose name is a brand: shown as is in every language.
PAYMENT_BRANDS = {
    "apple_pay": "Apple Pay",
    "google_pay": "Google Pay",
    "mobilepay": "MobilePay",
    "paypal": "PayPal",
    "klarna": "Klarna",
    "link": "Link",
    "stripe": "Stripe",
}
# Payment methods with a generic name: translated through the catalogue.
PAYMENT_METHOD_MESSAGES = {
    "card": "payment_method.card",
    "sepa_debit": "payment_method.sepa_debit",
    "bank_transfer": "payment_method.bank_transfer",
}
RECEIPT_KIND_MESSAGES = {
    "simplified": "receipt.kind.simplified",
    "full": "receipt.kind.full",
}

ReceiptKind = Literal["simplified", "full"]


@dataclass(frozen=True)
class SellerView:
    name: str
    address: str
    y_tunnus: str
    vat_number: str
    email: str
    website: str


@dataclass(frozen=True)
class ReceiptLineView:
    description: str
    quantity: str
    unit_price: str
    net: str
    vat: str
    gross: str
    discount: bool = False
    vehicles: str | None = None
    vins: tuple[str, ...] = ()


@dataclass(frozen=True)
class VatBreakdownView:
    rate: str
    net: str
    vat: str
    gross: str


@dataclass(frozen=True)
class ReceiptView:
    """What the template shows; strings only, already in the receipt's language."""

    locale: str
    lang: str
    kind: ReceiptKind
    kind_label: str
    number: str
    order_reference: str
    issued_on: str
    seller: SellerView
    lines: tuple[ReceiptLineView, ...]
    discount: str | None
    voucher_code: str | None
    vat_rate: str
    net: str
    vat: str
    gross: str
    payment_method: str
    payment_provider: str
    payment_reference: str | None
    credits_receipt: str | None = None  # a credit note: the number of the receipt it cancels
    vat_breakdown: tuple[VatBreakdownView, ...] = ()


def _description(line: ReceiptLine, locale: str) -> str:
    """A discount line is named in the receipt's language, the voucher's code with it."""
    if line.kind == "voucher":
        return translate(locale, "receipt.line.voucher", code=line.voucher_code or "")
    if line.kind == "volume_discount":
        return translate(locale, "receipt.line.volume_discount")
    return line.description


def receipt_kind(receipt: Receipt) -> ReceiptKind:
    """Simplified up to 400 € VAT included; anything larger, or in another currency, is a full invoice."""
    if receipt.currency.upper() == SIMPLIFIED_CURRENCY and receipt.gross_cents <= SIMPLIFIED_LIMIT_CENTS:
        return "simplified"
    return "full"


def payment_method_label(method: str | None, provider: str, locale: str) -> str:
    """`card` → `Maksukortti` (fi); brands stay brands; unknown methods are shown readable, not dropped."""
    key = (method or provider).strip().lower()
    if key in PAYMENT_METHOD_MESSAGES:
        return translate(locale, PAYMENT_METHOD_MESSAGES[key])
    if key in PAYMENT_BRANDS:
        return PAYMENT_BRANDS[key]
    return key.replace("_", " ").capitalize()


def provider_label(provider: str) -> str:
    return PAYMENT_BRANDS.get(provider.strip().lower(), provider)


def receipt_view(receipt: Receipt) -> ReceiptView:
    locale = resolve_locale(receipt.locale)
    currency = receipt.currency.upper()

    def money(cents: int) -> str:
        return format_money(cents, currency, locale)

    kind = receipt_kind(receipt)
    seller = receipt.seller
    return ReceiptView(
        locale=locale,
        lang=babel_locale(locale).language,
        kind=kind,
        kind_label=translate(locale, RECEIPT_KIND_MESSAGES[kind]),
        number=receipt.number,
        order_reference=receipt.order_reference,
        issued_on=format_date(receipt.issued_at, locale, style="long", tz=SELLER_TIME_ZONE),
        seller=SellerView(
            name=seller.name,
            address=seller.address,
            y_tunnus=seller.y_tunnus,
            vat_number=seller.vat_number,
            email=seller.email,
            website=seller.website,
        ),
        lines=tuple(
            ReceiptLineView(
                description=_description(line, locale),
                quantity=format_number(line.quantity, locale),
                unit_price=money(line.unit_gross_cents),
                net=money(line.net_cents),
                vat=money(line.vat_cents),
                gross=money(line.gross_cents),
                discount=line.kind != "package",
                vehicles=translate(locale, "receipt.line.vehicles", count=format_number(len(line.vins), locale))
                if line.vins
                else None,
                vins=tuple(line.vins),
            )
            for line in receipt.lines
        ),
        vat_breakdown=tuple(
            VatBreakdownView(
                rate=format_percent(part.rate, locale),
                net=money(part.net_cents),
                vat=money(part.vat_cents),
                gross=money(part.gross_cents),
            )
            for part in receipt.vat_breakdown
        ),
        discount=money(receipt.discount_cents) if receipt.discount_cents else None,
        voucher_code=receipt.voucher_code,
        vat_rate=format_percent(receipt.vat_rate, locale),
        net=money(receipt.net_cents),
        vat=money(receipt.vat_cents),
        gross=money(receipt.gross_cents),
        payment_method=payment_method_label(receipt.payment_method, receipt.payment_provider, locale),
        payment_provider=provider_label(receipt.payment_provider),
        payment_reference=receipt.payment_reference,
    )


def render_receipt_html(receipt: Receipt) -> str:
    view = receipt_view(receipt)
    return render_html(TEMPLATE, view.locale, receipt=view)


async def render_receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt as PDF: HTML here (well under a millisecond), the PDF in the document process pool."""
    return await render_pdf_off_loop(render_receipt_html(receipt))


def credit_note_view(note: CreditNote) -> ReceiptView:
    """The receipt's layout for a credit note: its own number and date, the receipt it cancels, negative amounts."""
    as_receipt = Receipt(
        id=note.id,
        number=note.number,
        order_reference=note.order_reference,
        issued_at=note.issued_at,
        locale=note.locale,
        seller=note.seller,
        lines=note.lines,
        discount_cents=note.discount_cents,
        net_cents=note.net_cents,
        vat_rate=note.vat_rate,
        vat_cents=note.vat_cents,
        gross_cents=note.gross_cents,
        currency=note.currency,
        payment_method=note.payment_method,
        payment_provider=note.payment_provider,
        payment_reference=note.refund_reference,
    )
    return replace(receipt_view(as_receipt), credits_receipt=note.receipt_number)


def render_credit_note_html(note: CreditNote) -> str:
    view = credit_note_view(note)
    return render_html(TEMPLATE, view.locale, receipt=view)


async def render_credit_note_pdf(note: CreditNote) -> bytes:
    """The credit note as PDF, rendered like the receipt (HTML here, the PDF in the document pool)."""
    return await render_pdf_off_loop(render_credit_note_html(note))
