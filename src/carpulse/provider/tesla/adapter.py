"""Tesla's payloads → our brand-agnostic types."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from carpulse.kit.clock import Clock
from carpulse.provider.base import (
    Alert,
    Capability,
    CarSettings,
    ChargingFee,
    ChargingInvoiceRef,
    ChargingSession,
    Location,
    OnlineState,
    Place,
    Reading,
    ServiceStatus,
    VehicleIdentity,
    VehicleSnapshot,
    VehicleSummary,
    Warranty,
)
from carpulse.provider.errors import ProviderError, VehicleAsleep, asked_to_wait
from carpulse.provider.tesla.client import TeslaFleetClient
from carpulse.provider.tesla.schemas import TeslaVehicle

# VIN position 4 is the model line for Tesla (WMI 5YJ, 7SA, LRW, XP7, 7G2).
_MODELS = {"S": "Model S", "X": "Model X", "3": "Model 3", "Y": "Model Y", "C": "Cybertruck", "R": "Roadster"}
# VIN position 10: model year (ISO 3779, the 30-year cycle from 2010 onwards).
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_STATES: dict[str, OnlineState] = {"online": "online", "asleep": "asleep", "offline": "offline"}
# Paint option codes (the list's `option_codes`, when Tesla fills it) → our paint names for a picture.
_PAINT_CODES = {
    "PPSW": "pearl-white",
    "PBCW": "white",
    "PBSB": "black",
    "PMBL": "black",
    "PMNG": "midnight-silver",
    "PMSS": "silver",
    "PPSB": "deep-blue",
    "PPMR": "red",
    "PR01": "red",
    "PR00": "cherry",
    "PN00": "quicksilver",
    "PN01": "stealth-grey",
}
# `color` / `exterior_color` words (`PearlWhite`, `DeepBlue`…) → the same paint names.
_PAINT_WORDS = {
    "pearlwhite": "pearl-white",
    "white": "white",
    "solidwhite": "white",
    "solidblack": "black",
    "black": "black",
    "obsidianblack": "black",
    "midnightsilver": "midnight-silver",
    "silver": "silver",
    "silvermetallic": "silver",
    "deepblue": "deep-blue",
    "blue": "deep-blue",
    "redmulticoat": "red",
    "red": "red",
    "ultrared": "red",
    "midnightcherryred": "cherry",
    "quicksilver": "quicksilver",
    "quicksilvergrey": "quicksilver",
    "stealthgrey": "stealth-grey",
    "grey": "stealth-grey",
}


def model_from_vin(vin: str) -> str | None:
    return _MODELS.get(vin[3]) if len(vin) == 17 else None


def year_from_vin(vin: str) -> int | None:
    if len(vin) != 17 or vin[9] not in _YEAR_CODES:
        return None
    return 2010 + _YEAR_CODES.index(vin[9])


def paint_of(option_codes: str | None, colour: str | None) -> str | None:
    """The car's paint from its option codes or its colour word, when Tesla says it (often it does not)."""
    for code in (option_codes or "").split(","):
        paint = _PAINT_CODES.get(code.strip().lstrip("$").upper())
        if paint:
            return paint
    return _PAINT_WORDS.get(re.sub(r"[^a-z]", "", (colour or "").lower()))


def to_summary(vehicle: TeslaVehicle) -> VehicleSummary:
    model = model_from_vin(vehicle.vin)
    paint = paint_of(vehicle.option_codes, vehicle.color)
    hint = model.lower().replace(" ", "-") if model else None
    return VehicleSummary(
        vin=vehicle.vin,
        display_name=vehicle.display_name,
        model=model,
        year=year_from_vin(vehicle.vin),
        image_hint=f"{hint}/{paint}" if hint and paint else hint,
        online_state=_STATES.get((vehicle.state or "").lower(), "unknown"),
        access=vehicle.access_type,
    )


MILES_TO_KM = 1.609344
SOURCE = "tesla_fleet"
_WHEEL_SIZE = re.compile(r"(?<!\d)(1[5-9]|2[0-4])(?!\d)")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _decimal(value: Any) -> Decimal:
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return Decimal(0)


def _epoch_ms(value: Any) -> datetime | None:
    number = _number(value)
    return datetime.fromtimestamp(number / 1000, UTC) if number else None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _reading(value: Any, unit: str | None, captured_at: datetime | None) -> Reading[Any] | None:
    return None if value is None else Reading(value=value, unit=unit, captured_at=captured_at, source=SOURCE)


def _enum_text(value: Any) -> str | None:
    # Tesla sends "<invalid>" for values it does not know.
    return value if isinstance(value, str) and value and value != "<invalid>" else None


def identify(identity: VehicleIdentity, config: Mapping[str, Any]) -> VehicleIdentity:
    """The identity with what `vehicle_config` says of the car's build: trim badge, colour, wheels (and their rim
    size, which Tesla gives only inside the wheel's name) and body variant, what a pack catalogue matches on."""
    wheels = _enum_text(config.get("wheel_type")) or identity.wheels
    match = _WHEEL_SIZE.search(wheels or "")
    return identity.model_copy(
        update={
            "trim": _enum_text(config.get("trim_badging")) or identity.trim,
            "colour": _enum_text(config.get("exterior_color")) or identity.colour,
            "wheels": wheels,
            "wheel_inches": int(match.group(1)) if match else identity.wheel_inches,
            "variant": _enum_text(config.get("car_type")) or identity.variant,
        }
    )


def normalize_vehicle_data(snapshot: VehicleSnapshot, data: dict[str, Any]) -> None:
    charge = data.get("charge_state") or {}
    vehicle_state = data.get("vehicle_state") or {}
    config = data.get("vehicle_config") or {}
    drive = data.get("drive_state") or {}
    charge_at = _epoch_ms(charge.get("timestamp"))
    state_at = _epoch_ms(vehicle_state.get("timestamp"))
    identity = identify(snapshot.identity, config)
    identity.display_name = vehicle_state.get("vehicle_name") or data.get("display_name") or identity.display_name
    snapshot.identity = identity

    odometer = _number(vehicle_state.get("odometer"))
    snapshot.odometer = _reading(round(odometer * MILES_TO_KM, 1) if odometer is not None else None, "km", state_at)
    snapshot.battery_level = _reading(_number(charge.get("battery_level")), "%", charge_at)
    snapshot.usable_battery_level = _reading(_number(charge.get("usable_battery_level")), "%", charge_at)
    rated = _number(charge.get("battery_range"))
    snapshot.range = _reading(round(rated * MILES_TO_KM, 1) if rated is not None else None, "km", charge_at)
    snapshot.energy_added = _reading(_number(charge.get("charge_energy_added")), "kWh", charge_at)
    snapshot.charging_state = _reading(_enum_text(charge.get("charging_state")), None, charge_at)
    version = vehicle_state.get("car_version")
    snapshot.software_version = _reading(
        version.split(" ")[0] if isinstance(version, str) and version else None, None, state_at
    )
    snapshot.settings = car_settings(data.get("gui_settings") or {}, config)
    latitude, longitude = _number(drive.get("latitude")), _number(drive.get("longitude"))
    if latitude is not None and longitude is not None:
        heading = _number(drive.get("heading"))
        snapshot.location = Reading(
            value=Location(
                latitude=latitude, longitude=longitude, heading=int(heading) if heading is not None else None
            ),
            captured_at=datetime.fromtimestamp(_number(drive.get("gps_as_of")) or 0, UTC)
            if drive.get("gps_as_of")
            else _epoch_ms(drive.get("timestamp")),
            source=SOURCE,
        )


def car_settings(gui: dict[str, Any], config: dict[str, Any]) -> CarSettings:
    """The owner's display units (`gui_settings`) and the car's clock (`vehicle_config.utc_offset`, `eu_vehicle`)."""
    offset = config.get("utc_offset")
    eu = config.get("eu_vehicle")

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) and value else None

    return CarSettings(
        distance_units=text(gui.get("gui_distance_units")),
        temperature_units=text(gui.get("gui_temperature_units")),
        pressure_units=text(gui.get("gui_tire_pressure_units")),
        utc_offset_seconds=int(offset) if isinstance(offset, int | float) and not isinstance(offset, bool) else None,
        market="eu" if eu is True else "na" if eu is False else None,
    )


def normalize_service(data: dict[str, Any], captured_at: datetime) -> Reading[ServiceStatus]:
    status = data.get("service_status")
    in_service = isinstance(status, str) and status.lower() == "in_service"
    return Reading(
        value=ServiceStatus(
            in_service=in_service,
            status=status if isinstance(status, str) else None,
            estimated_completion=_iso(data.get("service_etc")),
            visit_number=data.get("service_visit_number")
            if isinstance(data.get("service_visit_number"), str)
            else None,
        ),
        captured_at=captured_at,
        source=SOURCE,
    )


def normalize_alerts(alerts: list[dict[str, Any]], captured_at: datetime) -> Reading[list[Alert]]:
    normalized = []
    for alert in alerts:
        occurred = _iso(alert.get("time"))
        if not isinstance(alert.get("name"), str) or occurred is None:
            continue
        audience = alert.get("audience")
        normalized.append(
            Alert(
                name=alert["name"],
                occurred_at=occurred,
                audience=[str(a) for a in audience] if isinstance(audience, list) else [],
                user_text=alert.get("user_text") or None,
            )
        )
    normalized.sort(key=lambda a: a.occurred_at, reverse=True)
    return Reading(value=normalized, captured_at=captured_at, source=SOURCE)


def normalize_warranty(data: dict[str, Any], captured_at: datetime) -> Reading[list[Warranty]]:
    warranties = []
    groups: tuple[tuple[str, Literal["active", "upcoming", "expired"]], ...] = (
        ("activeWarranty", "active"),
        ("upcomingWarranty", "upcoming"),
        ("expiredWarranty", "expired"),
    )
    for key, state in groups:
        for item in data.get(key) or []:
            if not isinstance(item, dict):
                continue
            limit = _number(item.get("expirationOdometer"))
            if limit is not None and str(item.get("odometerUnit", "")).upper() in ("MI", "MILES"):
                limit = round(limit * MILES_TO_KM)
            expires = _iso(item.get("expirationDate"))
            warranties.append(
                Warranty(
                    kind=str(item.get("warrantyType") or "UNKNOWN"),
                    display_name=item.get("warrantyDisplayName"),
                    expires_on=expires.date() if expires else None,
                    expires_at_km=limit,
                    state=state,
                )
            )
    return Reading(value=warranties, captured_at=captured_at, source=SOURCE)


def normalize_charging(sessions: list[dict[str, Any]], captured_at: datetime) -> Reading[list[ChargingSession]]:
    normalized = []
    for item in sessions:
        fees = [
            ChargingFee(
                fee_type=str(fee.get("feeType") or "UNKNOWN"),
                pricing_type=fee.get("pricingType"),
                currency=str(fee["currencyCode"]).upper() if fee.get("currencyCode") else None,
                usage=sum(
                    (
                        _decimal(fee.get(k))
                        for k in ("usageBase", "usageTier1", "usageTier2", "usageTier3", "usageTier4")
                    ),
                    Decimal(0),
                ),
                unit=fee.get("uom"),
                total_due=_decimal(fee.get("totalDue")),
                net_due=_decimal(fee.get("netDue", fee.get("totalDue"))),
            )
            for fee in item.get("fees") or []
            if isinstance(fee, dict)
        ]
        normalized.append(
            ChargingSession(
                session_id=str(item.get("sessionId")),
                vin=item.get("vin"),
                site=item.get("siteLocationName"),
                country=item.get("countryCode"),
                started_at=_iso(item.get("chargeStartDateTime")),
                stopped_at=_iso(item.get("chargeStopDateTime")),
                energy_kwh=sum((fee.usage for fee in fees if (fee.unit or "").lower() == "kwh"), Decimal(0)),
                fees=fees,
                invoices=[
                    ChargingInvoiceRef(
                        content_id=str(invoice["contentId"]),
                        file_name=invoice.get("fileName"),
                        invoice_type=invoice.get("invoiceType"),
                    )
                    for invoice in item.get("invoices") or []
                    if isinstance(invoice, dict) and invoice.get("contentId")
                ],
            )
        )
    return Reading(value=normalized, captured_at=captured_at, source=SOURCE)


class TeslaProvider:
    """`VehicleDataProvider` (and `ChargingHistoryReader`) for one connected Tesla account."""

    brand = "tesla"
    capabilities = frozenset(Capability)

    def __init__(
        self,
        fleet: TeslaFleetClient,
        *,
        clock: Clock,
        scopes: list[str],
        region: str = "unknown",
        concurrency: int = 4,
        wake_budget_seconds: float = 45.0,
        wake_poll_seconds: float = 5.0,
        history_months: int = 24,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.fleet = fleet
        self.clock = clock
        self.initial_region = region
        self.scopes = set(scopes)
        self.concurrency = concurrency
        self.wake_budget = wake_budget_seconds
        self.wake_poll = wake_poll_seconds
        self.history_months = history_months
        self.sleep = sleep

    async def list_vehicles(self) -> list[VehicleSummary]:
        return [to_summary(vehicle) for vehicle in await self.fleet.vehicles()]

    def place(self) -> Place:
        region = self.fleet.region
        return Place(region=region if region != "unknown" else self.initial_region, base_url=self.fleet.base_url)

    async def charging_sessions(
        self, vin: str, start: datetime, end: datetime, *, concurrency: int = 1
    ) -> list[ChargingSession]:
        raw = await self.fleet.charging_history(vin, start, end, concurrency=concurrency)
        return normalize_charging(raw, self.clock.now()).value

    async def charging_invoice(self, content_id: str) -> bytes:
        return await self.fleet.invoice(content_id)

    async def check_authorized(self) -> None:
        await self.fleet.tokens.access_token()

    async def _wake(self, vin: str) -> None:
        """One wake_up, then poll the (unbilled-to-wake) vehicle state within the budget."""
        vehicle = await self.fleet.wake_up(vin)
        waited = 0.0
        while (vehicle.state or "").lower() != "online":
            if waited >= self.wake_budget:
                raise VehicleAsleep(f"The vehicle did not wake within {self.wake_budget:.0f} s; try again later.")
            await self.sleep(self.wake_poll)
            waited += self.wake_poll
            vehicle = await self.fleet.vehicle(vin)

    async def _live_data(self, vin: str, include_location: bool, wake: bool) -> dict[str, Any]:
        endpoints = ["charge_state", "vehicle_state", "vehicle_config", "gui_settings", "climate_state"]
        if include_location and "vehicle_location" in self.scopes:
            endpoints += ["drive_state", "location_data"]
        try:
            return await self.fleet.vehicle_data(vin, endpoints)
        except VehicleAsleep:
            if not wake:
                raise
        await self._wake(vin)
        return await self.fleet.vehicle_data(vin, endpoints)

    async def acquire(
        self, vin: str, *, wake: bool = True, include_location: bool = False, include_history: bool = True
    ) -> VehicleSnapshot:
        """Everything we can read about one vehicle, fetched concurrently; gaps say what failed and why.

        Charging history pages at 50 sessions, so a heavy charger costs many billable calls: skip it
        (`include_history=False`) when the document does not show it. A part Tesla throttled (or our
        breaker held back) raises that error instead of leaving a gap that only means "not now": the
        caller waits the pause out and reads the car whole.
        """
        now = self.clock.now()
        before = sum(self.fleet.billable_calls.values())
        snapshot = VehicleSnapshot(
            identity=VehicleIdentity(vin=vin, model=model_from_vin(vin), year=year_from_vin(vin)),
            captured_at=now,
            online_state="unknown",
        )
        limiter = asyncio.Semaphore(self.concurrency)
        waits: list[tuple[float, ProviderError]] = []
        asleep: set[str] = set()  # parts that failed because the car was asleep or offline, not Tesla

        async def guarded(name: str, call: Awaitable[Any]) -> Any:
            async with limiter:
                try:
                    return await call
                except ProviderError as exc:
                    wait = asked_to_wait(exc)
                    if wait is not None:
                        waits.append((wait, exc))
                    if isinstance(exc, VehicleAsleep):
                        asleep.add(name)
                    snapshot.gaps[name] = exc.detail or exc.title
                    return None

        async def nothing() -> None:
            return None

        # A little more than the calendar months: the report cuts the window exactly as the invoice API does.
        start = now - timedelta(days=31 * self.history_months)
        live, service, alerts, warranty, history = await asyncio.gather(
            guarded("vehicle_data", self._live_data(vin, include_location, wake)),
            guarded("service_data", self.fleet.service_data(vin)),
            guarded("recent_alerts", self.fleet.recent_alerts(vin)),
            guarded("warranty", self.fleet.warranty(vin)),
            guarded("charging_history", self.fleet.charging_history(vin, start, now)) if include_history else nothing(),
        )
        if waits:
            raise max(waits, key=lambda pair: pair[0])[1]
        parts = {"vehicle_data": live, "service_data": service, "recent_alerts": alerts, "warranty": warranty}
        snapshot.raw = {name: part for name, part in parts.items() if part is not None}
        if live is not None:
            snapshot.online_state = "online"
            normalize_vehicle_data(snapshot, live)
        elif "vehicle_data" in asleep:
            snapshot.online_state = "asleep" if not wake else "offline"
        if service is not None:
            snapshot.service = normalize_service(service, now)
        if alerts is not None:
            snapshot.alerts = normalize_alerts(alerts, now)
        if warranty is not None:
            snapshot.warranties = normalize_warranty(warranty, now)
        if history is not None:
            snapshot.charging_history = normalize_charging(history, now)
        snapshot.billable_calls = sum(self.fleet.billable_calls.values()) - before
        return snapshot
