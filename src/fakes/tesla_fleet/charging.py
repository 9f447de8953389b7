"""Supercharger history: sessions with fees and invoices, and the query behind `/dx/charging/history`."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from fakes.tesla_fleet.catalog import MARKETS, NEIGHBOURS, SITES, Market, Site, zone
from fakes.tesla_fleet.fleet import Account, Vehicle

FeeType = Literal["CHARGING", "PARKING"]
PricingType = Literal["PAYMENT", "NO_CHARGE"]
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Fee:
    fee_id: int
    fee_type: FeeType
    currency: str
    pricing_type: PricingType
    rate: Decimal
    usage: int
    total_due: Decimal
    net_due: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "sessionFeeId": self.fee_id,
            "feeType": self.fee_type,
            "currencyCode": self.currency,
            "pricingType": self.pricing_type,
            "rateBase": float(self.rate),
            "rateTier1": 0,
            "rateTier2": 0,
            "rateTier3": None,
            "rateTier4": None,
            "usageBase": self.usage,
            "usageTier1": 0,
            "usageTier2": 0,
            "usageTier3": None,
            "usageTier4": None,
            "totalBase": float(self.total_due),
            "totalTier1": 0,
            "totalTier2": 0,
            "totalTier3": 0,
            "totalTier4": 0,
            "totalDue": float(self.total_due),
            "netDue": float(self.net_due),
            "uom": "kwh" if self.fee_type == "CHARGING" else "min",
            "isPaid": True,
            "status": "PAID",
        }


@dataclass(frozen=True)
class Invoice:
    content_id: str
    number: str
    file_name: str
    invoice_type: str = "IMMEDIATE"

    def to_json(self) -> dict[str, Any]:
        return {"fileName": self.file_name, "contentId": self.content_id, "invoiceType": self.invoice_type}


@dataclass(frozen=True)
class ChargingSession:
    session_id: int
    vin: str
    site: Site
    start: datetime  # UTC
    stop: datetime
    unlatch: datetime
    energy_kwh: int
    fees: tuple[Fee, ...]
    invoices: tuple[Invoice, ...]

    @property
    def currency(self) -> str:
        return self.site.currency

    @property
    def total_due(self) -> Decimal:
        return sum((fee.total_due for fee in self.fees), Decimal(0))

    @property
    def net_due(self) -> Decimal:
        return sum((fee.net_due for fee in self.fees), Decimal(0))

    def local(self, moment: datetime) -> datetime:
        """A moment in the site's local time, as Tesla reports it."""
        return moment.astimezone(zone(MARKETS[self.site.country]))

    def to_json(self) -> dict[str, Any]:
        return {
            "sessionId": self.session_id,
            "vin": self.vin,
            "siteLocationName": self.site.name,
            "chargeStartDateTime": self.local(self.start).isoformat(timespec="seconds"),
            "chargeStopDateTime": self.local(self.stop).isoformat(timespec="seconds"),
            "unlatchDateTime": self.local(self.unlatch).isoformat(timespec="seconds"),
            "countryCode": self.site.country,
            "fees": [fee.to_json() for fee in self.fees],
            "billingType": "IMMEDIATE",
            "invoices": [invoice.to_json() for invoice in self.invoices],
            "vehicleMakeType": "TSLA",
        }


SORT_KEYS = {
    "chargeStartDateTime": "start",
    "start_datetime": "start",
    "chargeStopDateTime": "stop",
    "stop_datetime": "stop",
    "sessionId": "session_id",
}


class ChargingHistory:
    """One account's sessions (oldest first) and its invoices by content id."""

    def __init__(self, sessions: list[ChargingSession]) -> None:
        self.sessions = sorted(sessions, key=lambda session: session.start)
        self.invoices: dict[str, tuple[ChargingSession, Invoice]] = {
            invoice.content_id: (session, invoice) for session in self.sessions for invoice in session.invoices
        }

    def query(
        self,
        *,
        vin: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        sort_by: str = "chargeStartDateTime",
        descending: bool = True,
    ) -> list[ChargingSession]:
        """Sessions of a vehicle (or all) that started within [start, end], sorted."""
        selected = [
            session
            for session in self.sessions
            if (vin is None or session.vin == vin)
            and (start is None or session.start >= start)
            and (end is None or session.start <= end)
        ]
        attribute = SORT_KEYS[sort_by]
        selected.sort(key=lambda session: (getattr(session, attribute), session.session_id), reverse=descending)
        return selected


def build_history(account: Account) -> ChargingHistory:
    """The account's history, deterministic from its seed and anchor date."""
    rng = random.Random(f"tesla-fleet:{account.seed}:{account.name}:charging")  # noqa: S311 - seeded on purpose
    serial = rng.randrange(40_000_000, 60_000_000)
    sessions: list[ChargingSession] = []
    for vehicle in account.vehicles:
        drawn = []
        for start in _session_starts(rng, vehicle, account):
            serial += rng.randint(1, 40)
            drawn.append(_session(rng, serial, vehicle, start, account))
        sessions += _thinned(rng, drawn, vehicle.charging_invoices)
    return ChargingHistory(sessions)


def _thinned(rng: random.Random, sessions: list[ChargingSession], invoices: int | None) -> list[ChargingSession]:
    """Drop invoiced sessions picked at random (the time span stays) until exactly `invoices` remain."""
    invoiced = [session for session in sessions if session.invoices]
    if invoices is None or len(invoiced) <= invoices:
        return sessions
    dropped = {session.session_id for session in rng.sample(invoiced, len(invoiced) - invoices)}
    return [session for session in sessions if session.session_id not in dropped]


def _session_starts(rng: random.Random, vehicle: Vehicle, account: Account) -> list[datetime]:
    days = vehicle.charging_months * 30
    count = round(vehicle.charging_sessions_per_month * vehicle.charging_months * rng.uniform(0.85, 1.15))
    end = datetime.combine(account.anchor, time(), tzinfo=zone(account.market))
    # Sessions happen between 06:00 and 23:00 at home.
    return sorted(
        (end - timedelta(days=rng.randint(1, days), hours=rng.uniform(1, 18))).astimezone(UTC)
        for _ in range(count if days else 0)
    )


def _pick_site(rng: random.Random, market: Market) -> Site:
    countries = (market.country,) if rng.random() < 0.75 else NEIGHBOURS[market.country] or (market.country,)
    country = rng.choice(countries)
    return rng.choice([site for site in SITES if site.country == country])


def _session(
    rng: random.Random, session_id: int, vehicle: Vehicle, start: datetime, account: Account
) -> ChargingSession:
    site = _pick_site(rng, account.market)
    energy = max(5, min(int(vehicle.trim.usable_kwh * 0.9), round(rng.gauss(38, 14))))
    power_kw = rng.uniform(45, 150 if vehicle.model.name != "Cybertruck" else 250)
    stop = start + timedelta(minutes=energy / power_kw * 60 + rng.uniform(2, 6))
    idle_minutes = rng.choice((0, 0, 0, 1, 2, 3)) if rng.random() < 0.85 else rng.randint(6, 25)
    unlatch = stop + timedelta(minutes=idle_minutes, seconds=rng.randint(5, 59))
    # Model S and X from the free-Supercharging era do not pay for energy.
    free = vehicle.model.name in ("Model S", "Model X") and vehicle.delivered_on < date(2019, 1, 1)
    rate = (Decimal(str(site.rate_per_kwh)) * Decimal(str(rng.uniform(0.92, 1.12)))).quantize(_CENT, ROUND_HALF_UP)
    charging_total = Decimal(0) if free else (rate * energy).quantize(_CENT, ROUND_HALF_UP)
    credit = (charging_total * Decimal("0.25")).quantize(_CENT, ROUND_HALF_UP) if rng.random() < 0.05 else Decimal(0)
    charging = Fee(
        session_id * 10 + 1,
        "CHARGING",
        site.currency,
        "NO_CHARGE" if free else "PAYMENT",
        Decimal(0) if free else rate,
        energy,
        charging_total,
        charging_total - credit,
    )
    billed_minutes = idle_minutes if site.busy and idle_minutes > 5 else 0
    idle_rate = Decimal(str(site.idle_fee_per_minute))
    parking_total = (idle_rate * billed_minutes).quantize(_CENT, ROUND_HALF_UP)
    parking = Fee(
        session_id * 10 + 2,
        "PARKING",
        site.currency,
        "PAYMENT" if billed_minutes else "NO_CHARGE",
        idle_rate if billed_minutes else Decimal(0),
        billed_minutes,
        parking_total,
        parking_total,
    )
    # Invoices appear a day after the session, only for paid sessions, and a few never do.
    recent = start > datetime.combine(account.anchor, time(), tzinfo=UTC) - timedelta(days=1)
    invoiced = charging.total_due + parking.total_due > 0 and not recent and rng.random() > 0.04
    invoices: tuple[Invoice, ...] = ()
    if invoiced:
        number = f"40{SITES.index(site):02d}P{session_id:010d}"
        content_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        invoices = (Invoice(content_id, number, f"{number}_{MARKETS[site.country].language}.pdf"),)
    return ChargingSession(session_id, vehicle.vin, site, start, stop, unlatch, energy, (charging, parking), invoices)
