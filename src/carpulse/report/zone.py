"""The zone a report shows its times in: the car's clock where its brand gives the clock's offset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from carpulse.kit.i18n import supported_locale
from carpulse.provider.base import CarSettings

# The zone a report's times are shown in when the car tells us only its clock's offset from UTC
# (`CarSettings.utc_offset_seconds`) and its market: the first zone of the reader's market, then of the car's region,
# whose offset at the reading is the car's. Zones sharing an offset here share their daylight-saving rules too,
# so a name picked among them never moves a time.
MARKET_ZONES = {
    "en": "Europe/London",
    "fi": "Europe/Helsinki",
    "sv": "Europe/Stockholm",
    "no": "Europe/Oslo",
    "da": "Europe/Copenhagen",
    "de": "Europe/Berlin",
    "fr": "Europe/Paris",
    "es": "Europe/Madrid",
    "it": "Europe/Rome",
}
REGION_ZONES = {
    "eu": ("Europe/Berlin", "Europe/London", "Europe/Lisbon", "Europe/Helsinki", "Europe/Istanbul", "Asia/Dubai"),
    "na": (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "Pacific/Honolulu",
        "America/Halifax",
    ),
    "apac": ("Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Australia/Perth", "Pacific/Auckland"),
}


@dataclass(frozen=True)
class CarZone:
    """The time zone a report shows every time in, and whether it was the car's clock or the market's guess."""

    zone: tzinfo
    from_car: bool


def car_time_zone(settings: CarSettings | None, locale: str, at: datetime) -> CarZone:
    """The car's zone from its clock's UTC offset; the reader's market zone when the car did not say."""
    market = MARKET_ZONES.get(supported_locale(locale), "UTC")
    offset = settings.utc_offset_seconds if settings is not None else None
    if offset is None:
        return CarZone(ZoneInfo(market), from_car=False)
    region = settings.market if settings is not None else None
    candidates = [market, *REGION_ZONES.get(region or "", ()), *(z for zones in REGION_ZONES.values() for z in zones)]
    for name in dict.fromkeys(candidates):
        zone = ZoneInfo(name)
        local = at.astimezone(zone).utcoffset()
        if local is not None and local.total_seconds() == offset:
            return CarZone(zone, from_car=True)
    # No named zone has this offset now: the offset itself, which is still the car's clock.
    return CarZone(timezone(timedelta(seconds=int(offset))), from_car=True)
