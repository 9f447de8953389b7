"""`/poi` as OCM answers it: lenient parameter parsing, filters, distance order, and the output switches.

OCM ignores a parameter it cannot read (a bad latitude is no latitude, a bad `maxresults` is 100), measures
distance on a sphere in the unit asked for (miles unless `distanceunit=km`), and sorts by it when given a
position. `compact` drops the reference objects (IDs stay), `verbose=false` drops nulls, `camelcase` renames.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakes.open_charge_map import reference as ref

EARTH_RADIUS_KM = 6371.0
EARTH_RADIUS_MILES = 3958.8
DEFAULT_MAX_RESULTS = 100
_REFERENCE_OBJECTS = ("DataProvider", "OperatorInfo", "UsageType", "StatusType", "SubmissionStatus")
_CONNECTION_OBJECTS = ("ConnectionType", "StatusType", "Level", "CurrentType")
_BOX = re.compile(r"^\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)\s*,\s*\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)$")


def _number(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _ids(value: str | None) -> frozenset[int] | None:
    if value is None or not value.strip():
        return None
    ids = set()
    for part in value.split(","):
        try:
            ids.add(int(part.strip()))
        except ValueError:
            continue
    return frozenset(ids)


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("true", "1", "yes")


@dataclass(frozen=True)
class PoiQuery:
    latitude: float | None = None
    longitude: float | None = None
    distance: float | None = None
    unit: int = ref.MILES
    max_results: int = DEFAULT_MAX_RESULTS
    country_code: str | None = None
    operator_ids: frozenset[int] | None = None
    connection_type_ids: frozenset[int] | None = None
    usage_type_ids: frozenset[int] | None = None
    status_type_ids: frozenset[int] | None = None
    data_provider_ids: frozenset[int] | None = None
    level_ids: frozenset[int] | None = None
    chargepoint_ids: frozenset[int] | None = None
    min_power_kw: float | None = None
    open_data: bool = False
    box: tuple[float, float, float, float] | None = None
    compact: bool = False
    verbose: bool = True
    camel_case: bool = False
    include_comments: bool = False

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> PoiQuery:
        latitude = _number(params.get("latitude"))
        longitude = _number(params.get("longitude"))
        if latitude is not None and not -90 <= latitude <= 90:
            latitude = None
        if longitude is not None and not -180 <= longitude <= 180:
            longitude = None
        try:
            max_results = int(params.get("maxresults", DEFAULT_MAX_RESULTS))
        except ValueError:
            max_results = DEFAULT_MAX_RESULTS
        box = None
        if match := _BOX.match(params.get("boundingbox", "").strip()):
            lat1, lng1, lat2, lng2 = (float(group) for group in match.groups())
            box = (min(lat1, lat2), min(lng1, lng2), max(lat1, lat2), max(lng1, lng2))
        unit = params.get("distanceunit", "").strip().lower()
        return cls(
            latitude=latitude,
            longitude=longitude,
            distance=_number(params.get("distance")),
            unit=ref.KM if unit in ("km", "kilometers", "kilometres") else ref.MILES,
            max_results=max(0, max_results),
            country_code=(params.get("countrycode") or "").strip().upper() or None,
            operator_ids=_ids(params.get("operatorid")),
            connection_type_ids=_ids(params.get("connectiontypeid")),
            usage_type_ids=_ids(params.get("usagetypeid")),
            status_type_ids=_ids(params.get("statustypeid")),
            data_provider_ids=_ids(params.get("dataproviderid")),
            level_ids=_ids(params.get("levelid")),
            chargepoint_ids=_ids(params.get("chargepointid")),
            min_power_kw=_number(params.get("minpowerkw")),
            open_data=_flag(params.get("opendata"), False),
            box=box,
            compact=_flag(params.get("compact"), False),
            verbose=_flag(params.get("verbose"), True),
            camel_case=_flag(params.get("camelcase"), False),
            include_comments=_flag(params.get("includecomments"), False),
        )


def distance(latitude: float, longitude: float, site: Mapping[str, Any], unit: int) -> float:
    """Great-circle distance from the point to the site, in `unit` (OCM's spherical formula)."""
    address = site["AddressInfo"]
    phi1, phi2 = math.radians(latitude), math.radians(address["Latitude"])
    d_phi = phi2 - phi1
    d_lambda = math.radians(address["Longitude"] - longitude)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    radius = EARTH_RADIUS_KM if unit == ref.KM else EARTH_RADIUS_MILES
    return 2 * radius * math.asin(min(1.0, math.sqrt(h)))


def _matches(site: Mapping[str, Any], query: PoiQuery) -> bool:
    address = site["AddressInfo"]
    connections = site["Connections"]
    checks = (
        query.country_code is None or address["Country"]["ISOCode"] == query.country_code,
        query.operator_ids is None or site["OperatorID"] in query.operator_ids,
        query.usage_type_ids is None or site["UsageTypeID"] in query.usage_type_ids,
        query.status_type_ids is None or site["StatusTypeID"] in query.status_type_ids,
        query.data_provider_ids is None or site["DataProviderID"] in query.data_provider_ids,
        query.chargepoint_ids is None or site["ID"] in query.chargepoint_ids,
        query.connection_type_ids is None
        or any(c["ConnectionTypeID"] in query.connection_type_ids for c in connections),
        query.level_ids is None or any(c["LevelID"] in query.level_ids for c in connections),
        query.min_power_kw is None or any((c["PowerKW"] or 0) >= query.min_power_kw for c in connections),
        not query.open_data or bool(site["DataProvider"]["IsOpenDataLicensed"]),
        query.box is None
        or (
            query.box[0] <= address["Latitude"] <= query.box[2] and query.box[1] <= address["Longitude"] <= query.box[3]
        ),
    )
    return all(checks)


def search(sites: list[dict[str, Any]], query: PoiQuery) -> list[dict[str, Any]]:
    """The sites the query selects, nearest first when it names a position, rendered as asked."""
    found = [site for site in sites if _matches(site, query)]
    if query.latitude is not None and query.longitude is not None:
        lat, lon = query.latitude, query.longitude
        measured = [(distance(lat, lon, site, query.unit), site) for site in found]
        if query.distance is not None:
            measured = [(d, site) for d, site in measured if d <= query.distance]
        measured.sort(key=lambda pair: pair[0])
        chosen = [_with_distance(site, d, query.unit) for d, site in measured[: query.max_results]]
    else:
        found.sort(key=lambda site: site["ID"], reverse=True)
        chosen = [copy.deepcopy(site) for site in found[: query.max_results]]
    return [render(site, query) for site in chosen]


def _with_distance(site: dict[str, Any], measured: float, unit: int) -> dict[str, Any]:
    placed = copy.deepcopy(site)
    placed["AddressInfo"]["Distance"] = measured
    placed["AddressInfo"]["DistanceUnit"] = unit
    return placed


def render(site: dict[str, Any], query: PoiQuery) -> dict[str, Any]:
    if query.include_comments:
        site["UserComments"] = []
        site["MediaItems"] = []
    if query.compact:
        for name in _REFERENCE_OBJECTS:
            site.pop(name, None)
        site["AddressInfo"].pop("Country", None)
        for connection in site["Connections"]:
            for name in _CONNECTION_OBJECTS:
                connection.pop(name, None)
    rendered: Any = site if query.verbose else _without_nulls(site)
    return _camel(rendered) if query.camel_case else rendered  # type: ignore[no-any-return]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def camel_name(name: str) -> str:
    """.NET's camel-casing: the leading capitals are lowered, but for the last one before a lower-case letter
    (`ID` → `id`, `UUID` → `uuid`, `AddressInfo` → `addressInfo`, `ISOCode` → `isoCode`, `PowerKW` → `powerKW`)."""
    if not name or not name[0].isupper():
        return name
    chars = list(name)
    for i, char in enumerate(chars):
        if not char.isupper():
            break
        if i > 0 and i + 1 < len(chars) and not chars[i + 1].isupper():
            break
        chars[i] = char.lower()
    return "".join(chars)


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel_name(key): _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value
