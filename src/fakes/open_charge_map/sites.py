"""The fake's charging sites: a few hundred around six cities, a pure function of the seed.

Each site is built as OCM's verbose JSON (PascalCase) without `Distance`, which depends on the query.
The counts per city and operator are fixed; the seed moves sites, picks power levels, addresses and dates.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fakes.open_charge_map import reference as ref

# Dates are relative to this day, not the clock, so a seed gives the same sites on every run.
ANCHOR = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
KM_PER_DEGREE = 111.32
FIRST_ID = 180_001


@dataclass(frozen=True)
class City:
    name: str
    country: str
    province: str
    latitude: float
    longitude: float
    districts: tuple[str, ...]
    streets: tuple[str, ...]
    # Sites per kind of operator: (operator id or None for a hotel or shop's own posts, kind, count).
    mix: tuple[tuple[int | None, str, int], ...]
    data_provider: int
    currency: str = "€"


HOTELS = {
    "FI": ("Scandic", "Original Sokos Hotel", "Radisson Blu", "Kauppakeskus", "Prisma"),
    "DE": ("Motel One", "NH Hotel", "IKEA", "Holiday Inn Express", "Kaufland"),
    "NL": ("Van der Valk", "NH Hotel", "IKEA", "Jumbo", "Holiday Inn Express"),
    "SE": ("Scandic", "Clarion Hotel", "IKEA", "ICA Maxi", "Elite Hotel"),
}

CITIES: tuple[City, ...] = (
    City(
        "Helsinki",
        "FI",
        "Uusimaa",
        60.1699,
        24.9384,
        (
            "Kamppi",
            "Pasila",
            "Kallio",
            "Ruoholahti",
            "Lauttasaari",
            "Herttoniemi",
            "Malmi",
            "Itäkeskus",
            "Munkkiniemi",
            "Vuosaari",
            "Kalasatama",
            "Viikki",
            "Petikko",
            "Konala",
        ),
        (
            "Mannerheimintie",
            "Hämeentie",
            "Itämerenkatu",
            "Mechelininkatu",
            "Sörnäisten rantatie",
            "Ratapihantie",
            "Kehä I",
            "Lahdenväylä",
            "Tuusulanväylä",
            "Itäväylä",
            "Porvoonkatu",
            "Hietalahdenranta",
        ),
        (
            (3392, "dc", 6),
            (3392, "ac", 6),
            (3534, "dc", 5),
            (3534, "hpc", 3),
            (3296, "ac", 10),
            (3401, "ac", 10),
            (3479, "ac", 6),
            (3299, "hpc", 3),
            (23, "tesla", 3),
            (3481, "shop", 3),
            (None, "destination", 5),
            (1, "schuko", 3),
        ),
        ref.OCM_CONTRIBUTORS,
    ),
    City(
        "Tampere",
        "FI",
        "Pirkanmaa",
        61.4978,
        23.7610,
        (
            "Keskusta",
            "Hervanta",
            "Lielahti",
            "Kaleva",
            "Tesoma",
            "Hatanpää",
            "Linnainmaa",
            "Ranta-Tampella",
            "Lakalaiva",
        ),
        (
            "Hämeenkatu",
            "Itsenäisyydenkatu",
            "Sammonkatu",
            "Paasikiventie",
            "Nokiantie",
            "Hatanpään valtatie",
            "Lempääläntie",
            "Teiskontie",
        ),
        (
            (3392, "dc", 4),
            (3392, "ac", 4),
            (3534, "dc", 3),
            (3534, "hpc", 2),
            (3296, "ac", 6),
            (3479, "ac", 5),
            (3299, "hpc", 2),
            (23, "tesla", 2),
            (3481, "shop", 2),
            (None, "destination", 3),
            (1, "schuko", 2),
        ),
        ref.OCM_CONTRIBUTORS,
    ),
    City(
        "Berlin",
        "DE",
        "Berlin",
        52.5200,
        13.4050,
        (
            "Mitte",
            "Prenzlauer Berg",
            "Friedrichshain",
            "Kreuzberg",
            "Neukölln",
            "Charlottenburg",
            "Spandau",
            "Tempelhof",
            "Pankow",
            "Lichtenberg",
            "Steglitz",
            "Schöneberg",
            "Wedding",
            "Marzahn",
        ),
        (
            "Karl-Marx-Allee",
            "Kurfürstendamm",
            "Frankfurter Allee",
            "Sonnenallee",
            "Schönhauser Allee",
            "Potsdamer Straße",
            "Heerstraße",
            "Landsberger Allee",
            "Tempelhofer Damm",
            "Müllerstraße",
            "Schloßstraße",
            "Prenzlauer Allee",
        ),
        (
            (86, "hpc", 4),
            (86, "dc", 6),
            (103, "ac", 7),
            (103, "dc", 3),
            (3390, "ac", 8),
            (3455, "hpc", 6),
            (3299, "hpc", 4),
            (23, "tesla", 4),
            (74, "fastned", 3),
            (3481, "shop", 6),
            (80, "ac", 5),
            (None, "destination", 6),
            (1, "type1", 2),
        ),
        18,
    ),
    City(
        "Munich",
        "DE",
        "Bayern",
        48.1351,
        11.5820,
        (
            "Altstadt",
            "Schwabing",
            "Maxvorstadt",
            "Sendling",
            "Pasing",
            "Bogenhausen",
            "Giesing",
            "Neuhausen",
            "Moosach",
            "Trudering",
            "Riem",
            "Freimann",
        ),
        (
            "Leopoldstraße",
            "Landsberger Straße",
            "Rosenheimer Straße",
            "Lindwurmstraße",
            "Dachauer Straße",
            "Ingolstädter Straße",
            "Wasserburger Landstraße",
            "Fürstenrieder Straße",
            "Arnulfstraße",
            "Prinzregentenstraße",
        ),
        (
            (3301, "ac", 11),
            (3301, "dc", 3),
            (86, "hpc", 3),
            (86, "dc", 5),
            (103, "ac", 5),
            (3455, "hpc", 5),
            (3299, "hpc", 4),
            (23, "tesla", 3),
            (74, "fastned", 2),
            (3481, "shop", 4),
            (None, "destination", 4),
            (1, "type1", 1),
        ),
        18,
    ),
    City(
        "Amsterdam",
        "NL",
        "Noord-Holland",
        52.3676,
        4.9041,
        (
            "Centrum",
            "De Pijp",
            "Jordaan",
            "Oost",
            "Noord",
            "Nieuw-West",
            "Zuidas",
            "Sloterdijk",
            "IJburg",
            "Bijlmer",
            "Westerpark",
            "Osdorp",
        ),
        (
            "Stadhouderskade",
            "Wibautstraat",
            "Overtoom",
            "Ferdinand Bolstraat",
            "Haarlemmerweg",
            "Amstelveenseweg",
            "Johan Huizingalaan",
            "Nieuwe Leeuwarderweg",
            "Gooiseweg",
            "Piet Heinkade",
            "Van Baerlestraat",
        ),
        (
            (3390, "ac", 12),
            (80, "ac", 10),
            (103, "ac", 7),
            (103, "dc", 3),
            (74, "fastned", 6),
            (23, "tesla", 3),
            (3299, "hpc", 2),
            (None, "destination", 5),
            (1, "type1", 3),
        ),
        ref.OCM_CONTRIBUTORS,
    ),
    City(
        "Stockholm",
        "SE",
        "Stockholms län",
        59.3293,
        18.0686,
        (
            "Norrmalm",
            "Södermalm",
            "Kungsholmen",
            "Östermalm",
            "Vasastan",
            "Bromma",
            "Hammarby sjöstad",
            "Solna",
            "Sundbyberg",
            "Farsta",
            "Kista",
            "Liljeholmen",
        ),
        (
            "Sveavägen",
            "Götgatan",
            "Fleminggatan",
            "Valhallavägen",
            "Drottningholmsvägen",
            "Ringvägen",
            "Essingeleden",
            "Nynäsvägen",
            "Kistavägen",
            "Hornsgatan",
            "Lindhagensgatan",
        ),
        (
            (3512, "ac", 7),
            (3512, "dc", 3),
            (3390, "ac", 8),
            (3420, "dc", 5),
            (3420, "hpc", 3),
            (3534, "dc", 5),
            (3534, "hpc", 3),
            (3299, "hpc", 4),
            (23, "tesla", 4),
            (3296, "ac", 4),
            (None, "destination", 4),
        ),
        20,
        currency="SEK",
    ),
)

# How far from the centre each kind stands (km): fast hubs by the ring roads, posts in the streets.
_REACH = {
    "hpc": (3.0, 22.0),
    "tesla": (3.0, 20.0),
    "fastned": (2.0, 18.0),
    "dc": (0.5, 12.0),
    "shop": (1.0, 12.0),
    "ac": (0.1, 9.0),
    "destination": (0.2, 8.0),
    "schuko": (1.0, 10.0),
    "type1": (1.0, 10.0),
}

_PRICES_EUR = {
    3299: "0,69 €/kWh (ad hoc); 0,39 €/kWh with IONITY Passport",
    23: "Tesla app: from 0,42 €/kWh off-peak; non-Tesla vehicles pay more without membership",
    74: "0,69 €/kWh; 0,49 €/kWh with Fastned Gold",
    3392: "0,39 €/kWh (AC), 0,49 €/kWh (DC)",
    3534: "0,45 €/kWh + 0,10 €/min after 60 min",
    86: "0,59 €/kWh with EnBW mobility+, 0,69 €/kWh ad hoc",
    3296: "0,29 €/kWh + 0,50 € per session",
    3401: "0,25 €/kWh + 0,02 €/min",
    3479: "0,35 €/kWh",
    103: "0,49 €/kWh (AC), 0,79 €/kWh (DC)",
    80: "0,52 €/kWh + 0,35 € start fee",
    3390: "0,42 €/kWh",
    3301: "0,49 €/kWh (AC), 0,59 €/kWh (DC)",
    3455: "0,69 €/kWh; 0,49 €/kWh with Aral pulse subscription",
    3481: "0,29 €/kWh (AC), 0,48 €/kWh (DC) with Lidl Plus",
}
_PRICES_SEK = {
    3299: "6,90 SEK/kWh (ad hoc)",
    23: "Tesla app: from 3,20 SEK/kWh off-peak",
    3534: "4,95 SEK/kWh",
    3512: "4,20 SEK/kWh",
    3390: "3,50 SEK/kWh",
    3420: "5,95 SEK/kWh; 4,95 SEK/kWh with Circle K Charge",
    3296: "3,90 SEK/kWh + 5 SEK per session",
}
_USAGE = {
    3299: ref.PUBLIC_PAY_AT_LOCATION,
    74: ref.PUBLIC_PAY_AT_LOCATION,
    86: ref.PUBLIC_PAY_AT_LOCATION,
    3455: ref.PUBLIC_PAY_AT_LOCATION,
    103: ref.PUBLIC_PAY_AT_LOCATION,
    23: ref.PUBLIC_MEMBERSHIP,
    3392: ref.PUBLIC_MEMBERSHIP,
    3534: ref.PUBLIC_MEMBERSHIP,
    3296: ref.PUBLIC_MEMBERSHIP,
    3401: ref.PUBLIC_MEMBERSHIP,
    3479: ref.PUBLIC_MEMBERSHIP,
    3512: ref.PUBLIC_MEMBERSHIP,
    3420: ref.PUBLIC_MEMBERSHIP,
    3481: ref.PUBLIC_MEMBERSHIP,
}


def _level(power_kw: float) -> int:
    return 1 if power_kw < 2 else 2 if power_kw < 40 else 3


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"open-charge-map:{seed}")  # noqa: S311 - reproducible test data
        self.next_id = FIRST_ID
        self.next_connection_id = 400_001

    def connection(
        self,
        type_id: int,
        power_kw: float,
        current: int,
        quantity: int,
        status: int = ref.OPERATIONAL,
    ) -> dict[str, Any]:
        phases = 3 if current == ref.AC_THREE_PHASE else 1
        voltage = {ref.DC: 920 if power_kw > 200 else 500, ref.AC_THREE_PHASE: 400}.get(current, 230)
        amps = round(power_kw * 1000 / (voltage * (math.sqrt(3) if phases == 3 else 1)))
        connection_id = self.next_connection_id
        self.next_connection_id += 1
        level = _level(power_kw)
        return {
            "ID": connection_id,
            "ConnectionTypeID": type_id,
            "ConnectionType": {**ref.CONNECTION_TYPES[type_id], "ID": type_id},
            "Reference": None,
            "StatusTypeID": status,
            "StatusType": {**ref.STATUS_TYPES[status], "ID": status},
            "LevelID": level,
            "Level": {**ref.LEVELS[level], "ID": level},
            "Amps": amps,
            "Voltage": voltage,
            "PowerKW": power_kw,
            "CurrentTypeID": current,
            "CurrentType": {**ref.CURRENT_TYPES[current], "ID": current},
            "Quantity": quantity,
            "Comments": None,
        }

    def connections(self, kind: str, operator_id: int | None) -> list[dict[str, Any]]:
        rng = self.rng
        if kind == "hpc":
            power = 350.0 if operator_id == 3299 else rng.choice((150.0, 300.0, 300.0, 350.0))
            return [self.connection(ref.CCS_TYPE_2, power, ref.DC, rng.randint(4, 8))]
        if kind == "tesla":
            if rng.random() < 0.3:  # an older site: Tesla's own plug beside CCS
                stalls = rng.randint(6, 10)
                return [
                    self.connection(ref.TESLA_MODEL_S_X, 150.0, ref.DC, stalls),
                    self.connection(ref.CCS_TYPE_2, 150.0, ref.DC, stalls // 2),
                ]
            return [self.connection(ref.CCS_TYPE_2, 250.0, ref.DC, rng.choice((8, 12, 16, 20)))]
        if kind == "fastned":
            return [
                self.connection(ref.CCS_TYPE_2, rng.choice((300.0, 400.0)), ref.DC, rng.randint(4, 8)),
                self.connection(ref.CHADEMO, 50.0, ref.DC, 1),
                self.connection(ref.TYPE_2_TETHERED, 43.0, ref.AC_THREE_PHASE, 1),
            ]
        if kind == "dc":
            dc_power = rng.choice((50.0, 60.0, 90.0, 120.0, 150.0))
            found = [self.connection(ref.CCS_TYPE_2, dc_power, ref.DC, rng.randint(1, 4))]
            if rng.random() < 0.5:
                found.append(self.connection(ref.CHADEMO, 50.0, ref.DC, 1))
            if rng.random() < 0.6:
                found.append(self.connection(ref.TYPE_2_SOCKET, 22.0, ref.AC_THREE_PHASE, rng.randint(1, 2)))
            return found
        if kind == "shop":
            return [
                self.connection(ref.CCS_TYPE_2, rng.choice((50.0, 75.0, 150.0)), ref.DC, rng.randint(1, 2)),
                self.connection(ref.TYPE_2_SOCKET, 22.0, ref.AC_THREE_PHASE, rng.randint(1, 4)),
            ]
        if kind == "schuko":
            return [self.connection(ref.SCHUKO, 3.7, ref.AC_SINGLE_PHASE, rng.randint(2, 8))]
        if kind == "type1":
            return [
                self.connection(ref.TYPE_1, 7.4, ref.AC_SINGLE_PHASE, 1),
                self.connection(ref.TYPE_2_SOCKET, 11.0, ref.AC_THREE_PHASE, 1),
            ]
        # Street posts and hotel or shop car parks: AC only.
        power = 11.0 if kind == "destination" else rng.choice((11.0, 22.0, 22.0))
        return [self.connection(ref.TYPE_2_SOCKET, power, ref.AC_THREE_PHASE, rng.choice((1, 2, 2, 2, 4)))]

    def position(self, city: City, kind: str) -> tuple[float, float]:
        near, far = _REACH[kind]
        distance = near + (far - near) * self.rng.random() ** 1.4
        bearing = self.rng.uniform(0, 2 * math.pi)
        latitude = city.latitude + distance * math.cos(bearing) / KM_PER_DEGREE
        longitude = city.longitude + distance * math.sin(bearing) / (
            KM_PER_DEGREE * math.cos(math.radians(city.latitude))
        )
        return round(latitude, 6), round(longitude, 6)

    def postcode(self, city: City) -> str:
        rng = self.rng
        if city.name == "Helsinki":
            return f"00{rng.randint(10, 99)}0"
        if city.name == "Tampere":
            return f"33{rng.randint(10, 90)}0"
        if city.name == "Berlin":
            return str(rng.randint(10115, 14199))
        if city.name == "Munich":
            return str(rng.randint(80331, 81929))
        if city.name == "Amsterdam":
            letters = "ABCDEGHJKLMNPRSTVWXZ"
            return f"{rng.randint(1011, 1109)} {rng.choice(letters)}{rng.choice(letters)}"
        return f"1{rng.randint(11, 29)} {rng.randint(10, 99)}"

    def title(self, city: City, operator_id: int | None, kind: str, district: str, street: str, number: int) -> str:
        if operator_id is None:
            return f"{self.rng.choice(HOTELS[city.country])} {district}"
        names = {
            3299: f"IONITY {district}",
            23: f"Tesla Supercharger {city.name} – {district}",
            74: f"Fastned {district}",
            3455: f"Aral pulse {street}",
            3481: f"Lidl {district}",
            3420: f"Circle K {district}",
            3392: f"{self.rng.choice(('K-Citymarket', 'K-Supermarket', 'K-Market'))} {district}",
        }
        if operator_id in names:
            return names[operator_id]
        if kind == "schuko":
            return f"Lämmitystolpat {street} {number}"
        return f"{street} {number}"

    def site(self, city: City, operator_id: int | None, kind: str) -> dict[str, Any]:
        rng = self.rng
        site_id = self.next_id
        self.next_id += 1
        latitude, longitude = self.position(city, kind)
        district = rng.choice(city.districts)
        street = rng.choice(city.streets)
        number = rng.randint(1, 180)
        connections = self.connections(kind, operator_id)
        status = rng.choices(
            (ref.OPERATIONAL, ref.PARTLY_OPERATIONAL, ref.UNKNOWN_STATUS, ref.PLANNED, ref.NOT_OPERATIONAL),
            weights=(86, 5, 5, 2, 2),
        )[0]
        if status == ref.PARTLY_OPERATIONAL and connections:
            broken = connections[-1]
            broken["StatusTypeID"] = ref.NOT_OPERATIONAL
            broken["StatusType"] = {**ref.STATUS_TYPES[ref.NOT_OPERATIONAL], "ID": ref.NOT_OPERATIONAL}
        elif status != ref.OPERATIONAL:
            for connection in connections:
                connection["StatusTypeID"] = status
                connection["StatusType"] = {**ref.STATUS_TYPES[status], "ID": status}
        operator = operator_id if operator_id is not None else 1
        if kind == "destination":
            usage = ref.PRIVATE_FOR_CUSTOMERS
            cost = rng.choice(("Free for customers", "Free for hotel guests", None))
        elif kind == "schuko":
            usage, cost = ref.PUBLIC, rng.choice(("Free", "0,50 € / h"))
        else:
            usage = _USAGE.get(operator, ref.PUBLIC)
            prices = _PRICES_SEK if city.currency == "SEK" else _PRICES_EUR
            cost = prices.get(operator)
        provider = ref.OCM_CONTRIBUTORS if kind in ("destination", "schuko") else city.data_provider
        if operator in (74, 23) and rng.random() < 0.5:
            provider = 27
        created = ANCHOR - timedelta(days=rng.randint(60, 2500), minutes=rng.randint(0, 1439))
        verified = (
            None if rng.random() < 0.15 else ANCHOR - timedelta(days=rng.randint(0, 420), hours=rng.randint(0, 23))
        )
        updated = max(created, verified or created) + timedelta(hours=rng.randint(0, 48))
        country = ref.COUNTRIES[city.country]
        return {
            "DataProvider": {**ref.DATA_PROVIDERS[provider], "ID": provider},
            "OperatorInfo": {
                **ref.OPERATORS[operator],
                "ID": operator,
                "Comments": None,
                "PhonePrimaryContact": None,
                "PhoneSecondaryContact": None,
                "AddressInfo": None,
                "BookingURL": None,
                "ContactEmail": None,
                "FaultReportEmail": None,
                "IsRestrictedEdit": False,
            },
            "UsageType": {**ref.USAGE_TYPES[usage], "ID": usage},
            "StatusType": {**ref.STATUS_TYPES[status], "ID": status},
            "SubmissionStatus": {**ref.SUBMISSION_STATUS_TYPES[100], "ID": 100},
            "UserComments": None,
            "PercentageSimilarity": None,
            "MediaItems": None,
            "IsRecentlyVerified": verified is not None and ANCHOR - verified < timedelta(days=90),
            "DateLastVerified": _iso(verified),
            "ID": site_id,
            "UUID": str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
            "ParentChargePointID": None,
            "DataProviderID": provider,
            "DataProvidersReference": None
            if provider == ref.OCM_CONTRIBUTORS
            else f"{city.country}{rng.randint(10000, 99999)}",
            "OperatorID": operator,
            "OperatorsReference": None,
            "UsageTypeID": usage,
            "UsageCost": cost,
            "AddressInfo": {
                "ID": site_id + 250_000,
                "Title": self.title(city, operator_id, kind, district, street, number),
                "AddressLine1": f"{street} {number}",
                "AddressLine2": district,
                "Town": city.name,
                "StateOrProvince": city.province,
                "Postcode": self.postcode(city),
                "CountryID": country["ID"],
                "Country": dict(country),
                "Latitude": latitude,
                "Longitude": longitude,
                "ContactTelephone1": None,
                "ContactTelephone2": None,
                "ContactEmail": None,
                "AccessComments": rng.choice((None, None, "24/7", "Car park level -1", "Open during shop hours")),
                "RelatedURL": None,
                "Distance": None,
                "DistanceUnit": 0,
            },
            "Connections": connections,
            "NumberOfPoints": sum(connection["Quantity"] for connection in connections),
            "GeneralComments": None,
            "DatePlanned": _iso(ANCHOR + timedelta(days=90)) if status == ref.PLANNED else None,
            "DateLastConfirmed": None,
            "StatusTypeID": status,
            "DateLastStatusUpdate": _iso(updated),
            "MetadataValues": None,
            "DataQualityLevel": 1,
            "DateCreated": _iso(created),
            "SubmissionStatusTypeID": 100,
        }


def build_sites(seed: int) -> list[dict[str, Any]]:
    """Every site of the fake, in ID order."""
    builder = _Builder(seed)
    return [
        builder.site(city, operator_id, kind)
        for city in CITIES
        for operator_id, kind, count in city.mix
        for _ in range(count)
    ]
