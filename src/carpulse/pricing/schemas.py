from __future__ import annotations

import itertools
import math
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carpulse.connect.schemas import Locale
from carpulse.kit.money import plain_rate
from carpulse.models import RedemptionState, VoucherKind
from carpulse.pricing.catalog import PackageCode

# Counts are stored as 32-bit integers (PostgreSQL INTEGER); a larger cap means no cap in practice.
MAX_COUNT = 2**31 - 1
# Admin-chosen codes: long and varied enough that guessing within the `voucher` rate limit is hopeless.
MIN_CODE_LENGTH = 8
MIN_DISTINCT_CHARACTERS = 5
MIN_CODE_BITS = 40
# Generated codes: 16 characters of a 32-letter alphabet, 80 bits.
GENERATED_CODE_LENGTH = 16


class VolumeTier(BaseModel):
    min_vehicles: int
    percent_off: Decimal


class CatalogPackage(BaseModel):
    code: PackageCode
    name: str
    names: dict[str, str]
    price_cents: int = Field(description="VAT included")
    currency: str
    per_vehicle: bool
    min_vehicles: int
    max_vehicles: int
    contents: list[str]
    volume_tiers: list[VolumeTier]


class Catalog(BaseModel):
    currency: str
    vat_rate: Decimal = Field(description="percent; consumer prices include it")
    prices_include_vat: Literal[True] = True
    packages: list[CatalogPackage]


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a client-sent amount is ignored, never trusted

    session_id: str = Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    voucher_code: str | None = Field(default=None, max_length=64)


class QuoteLine(BaseModel):
    kind: Literal["package", "volume_discount", "voucher"]
    description: str
    quantity: int
    unit_gross_cents: int
    gross_cents: int


class QuoteRead(BaseModel):
    quote_id: str
    session_id: str
    package: PackageCode
    vins: list[str]
    lines: list[QuoteLine]
    currency: str
    subtotal_cents: int
    discount_cents: int
    net_cents: int
    vat_rate: Decimal
    vat_cents: int
    gross_cents: int
    voucher_code: str | None
    expires_at: datetime


class VoucherCheck(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: str = Field(min_length=1, max_length=64)
    session_id: str | None = Field(default=None, min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    package: PackageCode | None = None
    vehicle_count: int | None = Field(default=None, ge=1, le=50)
    locale: Locale = Locale.en


class VoucherCheckResult(BaseModel):
    valid: bool
    code: str
    reason: str | None = None
    message: str | None = None
    discount_cents: int | None = None
    gross_cents: int | None = None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise ValueError("times need a UTC offset")
    return moment


def _window(valid_from: datetime | None, valid_until: datetime | None) -> None:
    if valid_from and valid_until and valid_until <= valid_from:
        raise ValueError("valid_until must be after valid_from")


def guessable_code(code: str) -> str | None:
    """Why an admin-chosen code is too easy to guess, or None.

    Entropy is estimated from the length and the character classes used (digits 10, letters 26,
    both 36, more with `-`/`_`); runs like `ABCDEFGH` and few distinct characters count as guessable.
    """
    if len(code) < MIN_CODE_LENGTH:
        return f"a code needs at least {MIN_CODE_LENGTH} characters"
    if len(set(code)) < MIN_DISTINCT_CHARACTERS:
        return f"a code needs at least {MIN_DISTINCT_CHARACTERS} different characters"
    alphabet = (10 if any(c.isdigit() for c in code) else 0) + (26 if any(c.isalpha() for c in code) else 0)
    alphabet += 2 if any(c in "-_" for c in code) else 0
    if len(code) * math.log2(alphabet) < MIN_CODE_BITS:
        return f"a code this short needs letters and digits (about {MIN_CODE_BITS} bits)"
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(code)}
    if steps in ({1}, {-1}):
        return "a code cannot be a run like ABCDEFGH"
    return None


def _code(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    problem = guessable_code(value)
    if problem:
        raise ValueError(problem)
    return value


class VoucherCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(
        default=None,
        min_length=MIN_CODE_LENGTH,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description=f"case-insensitive; omit it to get a random {GENERATED_CODE_LENGTH}-character code",
    )
    kind: VoucherKind
    percent_off: Decimal | None = Field(default=None, gt=0, le=100, max_digits=5, decimal_places=2)
    amount_off_cents: int | None = Field(default=None, gt=0, le=10_000_000)
    currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    max_per_customer: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    packages: list[PackageCode] | None = Field(default=None, min_length=1)
    min_amount_cents: int = Field(default=0, ge=0, le=MAX_COUNT)
    active: bool = True

    _code_strength = field_validator("code")(_code)
    _aware_times = field_validator("valid_from", "valid_until")(_aware)

    @model_validator(mode="after")
    def _consistent(self) -> VoucherCreate:
        if self.kind is VoucherKind.percent and (self.percent_off is None or self.amount_off_cents is not None):
            raise ValueError("a percent voucher has percent_off and no amount_off_cents")
        if self.kind is VoucherKind.fixed and (self.amount_off_cents is None or self.percent_off is not None):
            raise ValueError("a fixed voucher has amount_off_cents and no percent_off")
        _window(self.valid_from, self.valid_until)
        return self


# Columns that cannot be NULL: an explicit null in a PATCH is refused (omit the field to keep it).
_NOT_NULL = ("active", "min_amount_cents")


class VoucherUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    max_per_customer: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    packages: list[PackageCode] | None = Field(default=None, min_length=1)
    min_amount_cents: int | None = Field(default=None, ge=0, le=MAX_COUNT, description="cannot be null")
    active: bool | None = Field(default=None, description="cannot be null")

    _aware_times = field_validator("valid_from", "valid_until")(_aware)

    @model_validator(mode="after")
    def _consistent(self) -> VoucherUpdate:
        for name in _NOT_NULL:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        _window(self.valid_from, self.valid_until)
        return self


class VoucherRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    kind: VoucherKind
    percent_off: Decimal | None
    amount_off_cents: int | None
    currency: str
    valid_from: datetime | None
    valid_until: datetime | None
    max_redemptions: int | None
    max_per_customer: int | None
    packages: list[str] | None
    min_amount_cents: int
    active: bool
    uses: int
    over_cap_uses: int = Field(
        description="discounted sales beyond max_redemptions: payments that arrived after their use was released"
    )
    created_at: datetime

    @field_validator("percent_off")
    @classmethod
    def _plain(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else plain_rate(value)  # "10", never "10.00" from the column


class VoucherUse(BaseModel):
    """One order that took (or reserved, or gave back) a use of the voucher."""

    order_id: str
    reference: str = Field(description="the order's public reference (CP-…)")
    state: RedemptionState = Field(description="reserved at checkout, confirmed once paid, released if not paid")
    order_status: str
    package: str
    vehicles: int
    discount_cents: int
    gross_cents: int
    currency: str
    created_at: datetime


class VoucherUses(BaseModel):
    voucher: VoucherRead
    uses: list[VoucherUse]
