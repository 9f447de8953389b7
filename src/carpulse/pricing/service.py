"""Configure-price-quote: the server computes every amount (VAT-inclusive consumer prices)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.connect.schemas import ConnectSession
from carpulse.kit.money import percent_of, split_inclusive
from carpulse.models import Quote, Voucher, VoucherKind
from carpulse.models.order import order_reference
from carpulse.pricing.catalog import (
    PACKAGE_CONTENTS,
    PACKAGE_NAMES,
    PACKAGES,
    VOLUME_TIERS,
    PackageCode,
    package_name,
    volume_discount_percent,
)
from carpulse.pricing.errors import NothingSelected, VoucherCodeTaken, VoucherInvalid, VoucherNotFound
from carpulse.pricing.repository import VoucherRepository
from carpulse.pricing.schemas import (
    GENERATED_CODE_LENGTH,
    Catalog,
    CatalogPackage,
    QuoteLine,
    VolumeTier,
    VoucherCheckResult,
    VoucherCreate,
    VoucherRead,
    VoucherUpdate,
    VoucherUse,
    VoucherUses,
)

_VOLUME_LABEL = {
    "en": "Volume discount",
    "fi": "Määräalennus",
    "sv": "Mängdrabatt",
    "no": "Mengderabatt",
    "da": "Mængderabat",
    "de": "Mengenrabatt",
    "fr": "Remise sur volume",
    "es": "Descuento por volumen",
    "it": "Sconto quantità",
}
_VOUCHER_LABEL = {
    "en": "Voucher",
    "fi": "Alennuskoodi",
    "sv": "Rabattkod",
    "no": "Rabattkode",
    "da": "Rabatkode",
    "de": "Gutschein",
    "fr": "Code promo",
    "es": "Cupón",
    "it": "Buono sconto",
}


@dataclass(frozen=True)
class Priced:
    lines: list[QuoteLine]
    subtotal_cents: int
    volume_discount_cents: int
    voucher_discount_cents: int
    net_cents: int
    vat_cents: int
    gross_cents: int

    @property
    def discount_cents(self) -> int:
        return self.volume_discount_cents + self.voucher_discount_cents


@dataclass(frozen=True)
class VoucherTerms:
    code: str
    kind: VoucherKind
    percent_off: Decimal | None
    amount_off_cents: int | None


def price(
    package: PackageCode,
    vehicle_count: int,
    vat_rate: Decimal,
    locale: str = "en",
    voucher: VoucherTerms | None = None,
) -> Priced:
    """The whole price of a selection: lines, discounts, then VAT split out of the VAT-inclusive total."""
    rules = PACKAGES[package]
    quantity = 1 if package is PackageCode.bulk else vehicle_count
    subtotal = rules.price_cents * quantity
    lines = [
        QuoteLine(
            kind="package",
            description=f"{package_name(package, locale)} ({vehicle_count})"
            if package is PackageCode.bulk
            else package_name(package, locale),
            quantity=quantity,
            unit_gross_cents=rules.price_cents,
            gross_cents=subtotal,
        )
    ]
    volume = 0 if package is PackageCode.bulk else percent_of(subtotal, volume_discount_percent(vehicle_count))
    if volume:
        lines.append(
            QuoteLine(
                kind="volume_discount",
                description=_VOLUME_LABEL.get(locale, _VOLUME_LABEL["en"]),
                quantity=1,
                unit_gross_cents=-volume,
                gross_cents=-volume,
            )
        )
    remaining = subtotal - volume
    voucher_cents = 0
    if voucher is not None:
        if voucher.kind is VoucherKind.percent and voucher.percent_off is not None:
            voucher_cents = percent_of(remaining, voucher.percent_off)
        elif voucher.amount_off_cents is not None:
            voucher_cents = voucher.amount_off_cents
        voucher_cents = max(0, min(voucher_cents, remaining))  # never below zero
        if voucher_cents:
            label = f"{_VOUCHER_LABEL.get(locale, _VOUCHER_LABEL['en'])} {voucher.code}"
            lines.append(
                QuoteLine(
                    kind="voucher",
                    description=label,
                    quantity=1,
                    unit_gross_cents=-voucher_cents,
                    gross_cents=-voucher_cents,
                )
            )
    split = split_inclusive(remaining - voucher_cents, vat_rate)
    return Priced(
        lines=lines,
        subtotal_cents=subtotal,
        volume_discount_cents=volume,
        voucher_discount_cents=voucher_cents,
        net_cents=split.net_cents,
        vat_cents=split.vat_cents,
        gross_cents=split.gross_cents,
    )


def unavailable_voucher() -> VoucherInvalid:
    """The public's one answer for a code that cannot be used now, whether it exists or not."""
    return VoucherInvalid("This code cannot be used for this purchase.", reason="unavailable", field="voucher_code")


# Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def generated_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(GENERATED_CODE_LENGTH))


def terms_of(voucher: Voucher) -> VoucherTerms:
    return VoucherTerms(voucher.code, voucher.kind, voucher.percent_off, voucher.amount_off_cents)


class PricingService:
    def catalog(self, vat_rate: Decimal, currency: str, locale: str) -> Catalog:
        tiers = [VolumeTier(min_vehicles=minimum, percent_off=off) for minimum, off in VOLUME_TIERS]
        return Catalog(
            currency=currency,
            vat_rate=vat_rate,
            packages=[
                CatalogPackage(
                    code=code,
                    name=package_name(code, locale),
                    names=PACKAGE_NAMES[code],
                    price_cents=rules.price_cents,
                    currency=rules.currency,
                    per_vehicle=code is not PackageCode.bulk,
                    min_vehicles=rules.min_vehicles,
                    max_vehicles=rules.max_vehicles,
                    contents=PACKAGE_CONTENTS[code],
                    volume_tiers=[] if code is PackageCode.bulk else tiers,
                )
                for code, rules in PACKAGES.items()
            ],
        )

    async def usable_voucher(
        self,
        db: AsyncSession,
        code: str,
        *,
        package: PackageCode,
        vehicle_count: int,
        customer_key: str | None,
        now: datetime,
        vat_rate: Decimal,
    ) -> Voucher:
        """The voucher, if this purchase may use it now; else `VoucherInvalid` with the precise reason
        (for the admin: the public gets `unavailable_voucher()` instead)."""
        repository = VoucherRepository(db)
        voucher = await repository.by_code(code)

        def refuse(reason: str, message: str) -> VoucherInvalid:
            return VoucherInvalid(message, reason=reason, field="voucher_code")

        if voucher is None:
            raise refuse("unknown", "No voucher has this code.")
        if not voucher.active:
            raise refuse("inactive", "This voucher is switched off.")
        if voucher.valid_from and now < voucher.valid_from:
            raise refuse("not_started", "This voucher is not valid yet.")
        if voucher.valid_until and now >= voucher.valid_until:
            raise refuse("expired", "This voucher has expired.")
        if voucher.packages and package.value not in voucher.packages:
            raise refuse("package_not_eligible", f"This voucher does not apply to the {package.value} package.")
        if voucher.kind is VoucherKind.fixed and voucher.currency != PACKAGES[package].currency:
            raise refuse("currency_mismatch", "This voucher is for another currency.")
        before_voucher = price(package, vehicle_count, vat_rate)
        if before_voucher.gross_cents < voucher.min_amount_cents:
            raise refuse(
                "minimum_not_met", f"This voucher needs a purchase of at least {voucher.min_amount_cents} cents."
            )
        if voucher.max_redemptions is not None and voucher.uses >= voucher.max_redemptions:
            raise refuse("used_up", "This voucher has been used up.")
        if (
            voucher.max_per_customer is not None
            and customer_key is not None
            and await repository.customer_uses(voucher.id, customer_key) >= voucher.max_per_customer
        ):
            raise refuse("customer_limit", "This customer has used up their uses of this voucher.")
        return voucher

    async def check_voucher(
        self,
        db: AsyncSession,
        code: str,
        *,
        package: PackageCode,
        vehicle_count: int,
        customer_key: str | None,
        now: datetime,
        vat_rate: Decimal,
        locale: str,
        precise: bool = False,
    ) -> VoucherCheckResult:
        """Preview a code; `precise` (the admin's) says why it cannot be used, the public's never does."""
        try:
            voucher = await self.usable_voucher(
                db,
                code,
                package=package,
                vehicle_count=vehicle_count,
                customer_key=customer_key,
                now=now,
                vat_rate=vat_rate,
            )
        except VoucherInvalid as exc:
            shown = exc if precise else unavailable_voucher()
            return VoucherCheckResult(
                valid=False, code=code.strip().upper(), reason=str(shown.extensions.get("reason")), message=shown.detail
            )
        priced = price(package, vehicle_count, vat_rate, locale, terms_of(voucher))
        return VoucherCheckResult(
            valid=True, code=voucher.code, discount_cents=priced.voucher_discount_cents, gross_cents=priced.gross_cents
        )

    async def quote(
        self,
        db: AsyncSession,
        session: ConnectSession,
        voucher_code: str | None,
        *,
        now: datetime,
        vat_rate: Decimal,
        currency: str,
        ttl_seconds: int,
    ) -> Quote:
        if session.selection is None:
            raise NothingSelected("Select vehicles and a package for this session first.")
        package = session.selection.package
        count = len(session.selection.vins)
        voucher = None
        if voucher_code:
            try:
                voucher = await self.usable_voucher(
                    db,
                    voucher_code,
                    package=package,
                    vehicle_count=count,
                    customer_key=session.customer_key,
                    now=now,
                    vat_rate=vat_rate,
                )
            except VoucherInvalid as exc:
                raise unavailable_voucher() from exc
        priced = price(package, count, vat_rate, session.locale.value, terms_of(voucher) if voucher else None)
        quote = Quote(
            id=secrets.token_urlsafe(32),
            session_id=session.id,
            package=package.value,
            vins=list(session.selection.vins),
            lines=[line.model_dump() for line in priced.lines],
            currency=currency,
            subtotal_cents=priced.subtotal_cents,
            discount_cents=priced.discount_cents,
            net_cents=priced.net_cents,
            vat_rate=vat_rate,
            vat_cents=priced.vat_cents,
            gross_cents=priced.gross_cents,
            voucher_id=voucher.id if voucher else None,
            voucher_code=voucher.code if voucher else None,
            locale=session.locale.value,
            customer_key=session.customer_key,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
        db.add(quote)
        await db.flush()
        return quote

    async def create_voucher(self, db: AsyncSession, body: VoucherCreate) -> Voucher:
        data = body.model_dump()
        data["code"] = body.code or generated_code()
        data["packages"] = [package.value for package in body.packages] if body.packages else None
        voucher = Voucher(**data)
        db.add(voucher)
        try:
            async with db.begin_nested():
                await db.flush()
        except IntegrityError as exc:
            raise VoucherCodeTaken(f"A voucher with the code {data['code']} exists.") from exc
        return voucher

    async def update_voucher(self, db: AsyncSession, voucher_id: str, body: VoucherUpdate) -> Voucher:
        voucher = await self._voucher(db, voucher_id)
        for field, value in body.model_dump(exclude_unset=True).items():
            if field == "packages" and value is not None:
                value = [PackageCode(p).value for p in value]
            setattr(voucher, field, value)
        if voucher.valid_from and voucher.valid_until and voucher.valid_until <= voucher.valid_from:
            raise VoucherInvalid("valid_until must be after valid_from.", reason="window", field="valid_until")
        if voucher.max_redemptions is not None and voucher.max_redemptions < voucher.uses:
            raise VoucherInvalid(
                f"The voucher has {voucher.uses} uses; max_redemptions cannot be lower.",
                reason="below_uses",
                field="max_redemptions",
            )
        try:
            async with db.begin_nested():
                await db.flush()
        except IntegrityError as exc:  # a use taken since we read the voucher
            raise VoucherInvalid(
                "The voucher's uses changed meanwhile; max_redemptions cannot be lower than its uses.",
                reason="below_uses",
                field="max_redemptions",
            ) from exc
        return voucher

    async def _voucher(self, db: AsyncSession, voucher_id: str) -> Voucher:
        try:
            key = uuid.UUID(voucher_id)
        except ValueError as exc:
            raise VoucherNotFound("No such voucher.") from exc
        voucher = await VoucherRepository(db).get(key)
        if voucher is None:
            raise VoucherNotFound("No such voucher.")
        return voucher

    async def get_voucher(self, db: AsyncSession, voucher_id: str) -> Voucher:
        return await self._voucher(db, voucher_id)

    async def voucher_uses(self, db: AsyncSession, voucher_id: str) -> VoucherUses:
        """The voucher and every order that used it (reserved, confirmed or released), newest first."""
        voucher = await self._voucher(db, voucher_id)
        rows = await VoucherRepository(db).uses(voucher.id)
        return VoucherUses(
            voucher=VoucherRead.model_validate(voucher),
            uses=[
                VoucherUse(
                    order_id=order.id,
                    reference=order_reference(order.id),
                    state=redemption.state,
                    order_status=order.status.value,
                    package=order.package,
                    vehicles=len(order.vins),
                    discount_cents=order.discount_cents,
                    gross_cents=order.gross_cents,
                    currency=order.currency,
                    created_at=redemption.created_at,
                )
                for redemption, order in rows
            ],
        )

    async def deactivate_voucher(self, db: AsyncSession, voucher_id: str) -> Voucher:
        """Vouchers are never deleted (orders reference them); they are switched off."""
        voucher = await self._voucher(db, voucher_id)
        voucher.active = False
        await db.flush()
        return voucher


pricing = PricingService()
