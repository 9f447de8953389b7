"""Receipts: issued once when an order is paid, numbered gap-free per year."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.config import CompanySettings
from carpulse.kit.money import plain_rate, split_lines_inclusive
from carpulse.models import Order
from carpulse.models import Receipt as ReceiptRow
from carpulse.models.order import order_reference
from carpulse.receipt.errors import ReceiptNotFound
from carpulse.receipt.repository import ReceiptRepository
from carpulse.receipt.schemas import Receipt, ReceiptLine, Seller, VatBreakdown

RECEIPT_TIME_ZONE = ZoneInfo("Europe/Helsinki")
# The order's lines a receipt shows: what was sold, and each discount as a line of its own.
RECEIPT_LINE_KINDS = ("package", "volume_discount", "voucher")


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
            seller=Seller(
                name=company.name,
                address=company.address,
                y_tunnus=company.y_tunnus,
                vat_number=company.vat_number,
                email=company.email,
                website=company.website,
            ).model_dump(),
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


receipt = ReceiptService()
