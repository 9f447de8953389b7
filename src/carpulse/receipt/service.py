"""Receipts: issued once when an order is paid, numbered gap-free per year; a refund cancels one by a
credit note in a gap-free series of its own (a Finnish receipt is never edited)."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.config import CompanySettings
from carpulse.kit.money import plain_rate, split_lines_inclusive
from carpulse.models import CreditNote as CreditNoteRow
from carpulse.models import Order
from carpulse.models import Receipt as ReceiptRow
from carpulse.models.order import order_reference
from carpulse.receipt.errors import CreditNoteNotFound, ReceiptNotFound
from carpulse.receipt.repository import ReceiptRepository
from carpulse.receipt.schemas import CreditNote, Receipt, ReceiptLine, Seller, VatBreakdown

RECEIPT_TIME_ZONE = ZoneInfo("Europe/Helsinki")
# Credit notes are numbered in their own series; the prefix keeps their numbers apart from receipts'.
CREDIT_NOTE_PREFIX = "HYV"
# The order's lines a receipt shows: what was sold, and each discount as a line of its own.
RECEIPT_LINE_KINDS = ("package", "volume_discount", "voucher")


def seller_of(company: CompanySettings) -> Seller:
    """The seller as every receipt, credit note and invoice names it (kept with the document: never edited)."""
    return Seller(
        name=company.name,
        address=company.address,
        y_tunnus=company.y_tunnus,
        vat_number=company.vat_number,
        email=company.email,
        website=company.website,
    )


class ReceiptService:
    async def issue(self, db: AsyncSession, order: Order, company: CompanySettings, now: datetime) -> ReceiptRow:
        """The order's receipt; issuing twice returns the first one."""
        repository = ReceiptRepository(db)
        existing = await repository.for_order(order.id)
        if existing is not None:
            return existing
        # The series follows the Finnish calendar year the receipt is dated in, not UTC's.
        year = now.astimezone(RECEIPT_TIME_ZONE).year
        sequence = await repository.next_number(year)
        receipt = ReceiptRow(
            id=secrets.token_urlsafe(32),
            order_id=order.id,
            number=f"{year}-{sequence:06d}",
            year=year,
            sequence=sequence,
            issued_at=now,
            locale=order.locale,
            seller=seller_of(company).model_dump(),
            # The receipt lists the vehicles it sold; it is never edited, so they are kept with it.
            lines=[
                line | {"vins": list(order.vins)} if line.get("kind") == "package" else line for line in order.lines
            ],
            discount_cents=order.discount_cents,
            net_cents=order.net_cents,
            vat_rate=order.vat_rate,
            vat_cents=order.vat_cents,
            gross_cents=order.gross_cents,
            currency=order.currency,
            payment_method=order.payment_method,
            payment_provider=order.provider,
            payment_reference=order.payment_reference,
            voucher_code=order.voucher_code,
        )
        db.add(receipt)
        await db.flush()
        return receipt

    async def credit(
        self, db: AsyncSession, order: Order, now: datetime, reason: str, refund_reference: str | None
    ) -> CreditNoteRow | None:
        """The credit note cancelling the order's receipt (once: a second call returns the first); None
        when the order has no receipt."""
        repository = ReceiptRepository(db)
        original = await repository.for_order(order.id)
        if original is None:
            return None
        existing = await repository.credit_note_for_receipt(original.id)
        if existing is not None:
            return existing
        year = now.astimezone(RECEIPT_TIME_ZONE).year
        sequence = await repository.next_credit_note_number(year)
        note = CreditNoteRow(
            id=secrets.token_urlsafe(32),
            receipt_id=original.id,
            order_id=order.id,
            number=f"{CREDIT_NOTE_PREFIX}-{year}-{sequence:06d}",
            year=year,
            sequence=sequence,
            issued_at=now,
            reason=reason[:500],
            refund_reference=refund_reference,
            discount_cents=-original.discount_cents,
            net_cents=-original.net_cents,
            vat_cents=-original.vat_cents,
            gross_cents=-original.gross_cents,
        )
        db.add(note)
        await db.flush()
        return note

    async def note_refund(self, db: AsyncSession, order_id: str, refund_reference: str) -> None:
        """Name the provider's refund on the order's credit note, when it was issued before the id was known."""
        note = await ReceiptRepository(db).credit_note_for_order(order_id)
        if note is not None and note.refund_reference is None:
            note.refund_reference = refund_reference
            await db.flush()

    async def get_credit_note(self, db: AsyncSession, key: str) -> CreditNote:
        repository = ReceiptRepository(db)
        row = await repository.credit_note(key)
        original = await repository.by_id_or_order(row.receipt_id) if row is not None else None
        if row is None or original is None:
            raise CreditNoteNotFound("No credit note with this id; a credit note exists once an order is refunded.")
        return credit_note_schema(row, original)

    async def get(self, db: AsyncSession, key: str) -> Receipt:
        row = await ReceiptRepository(db).by_id_or_order(key)
        if row is None:
            raise ReceiptNotFound("No receipt with this id; receipts exist once an order is paid.")
        return to_schema(row)


def to_schema(row: ReceiptRow) -> Receipt:
    kept = [line for line in row.lines if line.get("kind") in RECEIPT_LINE_KINDS]
    splits = split_lines_inclusive([int(line["gross_cents"]) for line in kept], row.vat_rate)
    lines = [
        ReceiptLine(
            description=str(line["description"]),
            quantity=int(line["quantity"]),
            unit_gross_cents=int(line["unit_gross_cents"]),
            net_cents=split.net_cents,
            vat_cents=split.vat_cents,
            gross_cents=split.gross_cents,
            kind=line["kind"],
            vins=[str(vin) for vin in line.get("vins") or []],
            voucher_code=row.voucher_code if line["kind"] == "voucher" else None,
        )
        for line, split in zip(kept, splits, strict=True)
    ]
    # One rate per order today; the breakdown is of the lines after their discounts.
    breakdown = VatBreakdown(
        rate=plain_rate(row.vat_rate),
        net_cents=sum(split.net_cents for split in splits),
        vat_cents=sum(split.vat_cents for split in splits),
        gross_cents=sum(split.gross_cents for split in splits),
    )
    return Receipt(
        id=row.id,
        number=row.number,
        order_reference=order_reference(row.order_id),
        issued_at=row.issued_at,
        locale=row.locale,
        seller=Seller.model_validate(row.seller),
        lines=lines,
        discount_cents=row.discount_cents,
        net_cents=row.net_cents,
        vat_rate=plain_rate(row.vat_rate),
        vat_cents=row.vat_cents,
        gross_cents=row.gross_cents,
        currency=row.currency,
        payment_method=row.payment_method,
        payment_provider=row.payment_provider,
        payment_reference=row.payment_reference,
        voucher_code=row.voucher_code,
        vat_breakdown=[breakdown],
    )


def credit_note_schema(row: CreditNoteRow, original: ReceiptRow) -> CreditNote:
    """The credit note with the receipt's lines and VAT breakdown, every amount negated."""
    receipt = to_schema(original)
    return CreditNote(
        id=row.id,
        number=row.number,
        receipt_id=receipt.id,
        receipt_number=receipt.number,
        order_reference=receipt.order_reference,
        issued_at=row.issued_at,
        locale=receipt.locale,
        reason=row.reason,
        seller=receipt.seller,
        lines=[
            line.model_copy(
                update={
                    "unit_gross_cents": -line.unit_gross_cents,
                    "net_cents": -line.net_cents,
                    "vat_cents": -line.vat_cents,
                    "gross_cents": -line.gross_cents,
                }
            )
            for line in receipt.lines
        ],
        discount_cents=row.discount_cents,
        net_cents=row.net_cents,
        vat_rate=receipt.vat_rate,
        vat_cents=row.vat_cents,
        gross_cents=row.gross_cents,
        currency=receipt.currency,
        payment_method=receipt.payment_method,
        payment_provider=receipt.payment_provider,
        refund_reference=row.refund_reference,
    )


receipt = ReceiptService()
