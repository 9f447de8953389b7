from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carpulse.connect.schemas import Locale
from carpulse.kit.money import plain_rate
from carpulse.models import VoucherKind
from carpulse.pricing.catalog import PackageCode

# Counts are stored as 32-bit integers (PostgreSQL INTEGER); a larger cap means no cap in practice.
MAX_COUNT = 2**31 - 1


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


class VoucherCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    kind: VoucherKind
    percent_off: Decimal | None = Field(default=None, gt=0, le=100)
    amount_off_cents: int | None = Field(default=None, gt=0, le=10_000_000)
    currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    max_per_customer: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    packages: list[PackageCode] | None = None
    min_amount_cents: int = Field(default=0, ge=0, le=MAX_COUNT)
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> VoucherCreate:
        if self.kind is VoucherKind.percent and (self.percent_off is None or self.amount_off_cents is not None):
            raise ValueError("a percent voucher has percent_off and no amount_off_cents")
        if self.kind is VoucherKind.fixed and (self.amount_off_cents is None or self.percent_off is not None):
            raise ValueError("a fixed voucher has amount_off_cents and no percent_off")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        for moment in (self.valid_from, self.valid_until):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("times need a UTC offset")
        return self


class VoucherUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    max_per_customer: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    packages: list[PackageCode] | None = None
    min_amount_cents: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    active: bool | None = None


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
    created_at: datetime

    @field_validator("percent_off")
    @classmethod
    def _plain(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else plain_rate(value)  # "10", never "10.00" from the column
