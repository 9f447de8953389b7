"""Packs as sold new, by make: the rated range a full pack showed, its chemistry, and where the figures come from.

`baseline_for` picks a car's row from its `VehicleIdentity` alone (model, trim, variant, wheel size, year, VIN);
reading those from a brand's payloads is the brand adapter's job.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from carpulse.battery.estimator import MILES_TO_KM, Chemistry, PackBaseline
from carpulse.kit.i18n import Joined, Text, phrase
from carpulse.provider.base import VehicleIdentity

_TENTH = Decimal("0.1")
_HUNDRED = Decimal(100)


def _round(value: Decimal, rounding: str) -> Decimal:
    return value.quantize(_TENTH, rounding=rounding)


# The configuration and source of a baseline (`PackBaseline.label`, `.citation`).
BASELINE_KEYS: tuple[str, ...] = (
    "battery.baseline.wheels",
    "battery.baseline.built_in_us",
    "battery.baseline.built_in_china_or_europe",
    "battery.baseline.unrated_wheels",
    "battery.baseline.either",
    "battery.trim.rear_wheel_drive_lfp",
    "battery.trim.all_wheel_drive",
    "battery.source.epa",
    "battery.source.tesla_published",
    "battery.source.usable_kwh",
    "battery.source.current_rating",
    "battery.source.borrowed_us_model_y_rwd",
    "battery.source.between_sr_plus_and_rwd",
    "battery.source.cybertruck",
    "battery.source.us_rating_for_ncm",
    "battery.source.rating_miles",
    "battery.source.rating_miles_span",
)

# Larger wheels lower the rating: the published pairs in the table cost 2 % to 7 % per inch (Model X Long Range
# 20 to 22 inches: 2 %; Model 3 Long Range and Model Y RWD 18/19 to 19/20 inches: 7 %). A car on wheels with no
# published rating gets the whole span, up to the steepest of these.
WHEEL_PENALTY_PER_INCH = Decimal("0.07")


# --- Baselines ---------------------------------------------------------------------------------------------------
#
# Rated range at 100 % of a new car, the figure Tesla's `battery_range` starts from. Tesla's firmware rates range
# with the EPA constants outside the US too (an Australian 2019 Model 3 Performance showed 500 km at 100 %, its
# EPA 310 mi, not its 530 km WLTP; techAU 2019), so EPA figures serve every market. The rating depends on the
# wheels the car is configured with (teslamate-org/teslamate#4729, #5000): where Tesla published figures per wheel
# size there is one row per size. When the car does not say enough to pick one rating (a model year re-rated
# midway, wheels without a published figure), the baseline spans every rating it could have, so the band widens
# instead of a guess.


_US = ("5YJ", "7SA")  # Fremont and Austin: Panasonic NCA cells in long-range packs
_CN_EU = ("LRW", "XP7")  # Shanghai and Berlin: LG Energy Solution (later also CATL) NCM cells in long-range packs
_EPA = phrase("battery.source.epa")
_TESLA = phrase("battery.source.tesla_published")
_KWH = phrase("battery.source.usable_kwh")
_CURRENT = phrase("battery.source.current_rating")
_S24 = "InsideEVs 2024-05, 2024 Tesla Model S EPA range"
_X21 = "InsideEVs 2020-10-28, 2021 Tesla Model X EPA range"
_X22 = "InsideEVs 2021-12-22, 2022 Tesla Model X EPA range"
_X24 = "InsideEVs 2024-05-13, 2024 Tesla Model X EPA range"
_M3_22 = "InsideEVs 2021-12-22, 2022 Tesla Model 3 EPA range"
_M3_23 = "InsideEVs 2023-03-28, 2023 Tesla Model 3 EPA range"
_M3_24 = "InsideEVs 2024-05-09, 2024 Tesla Model 3 EPA range"
_Y20 = "InsideEVs 2020-02, Tesla Model Y EPA range"
_Y23 = "InsideEVs 2023, 2023 Tesla Model Y EPA range"
_Y24 = "InsideEVs 2024-05-10, 2024 Tesla Model Y EPA range"
_Y_RWD = phrase("battery.source.borrowed_us_model_y_rwd", citation="telegraph247 2023")
_SR_LFP = phrase("battery.source.between_sr_plus_and_rwd")
_CT = phrase("battery.source.cybertruck", citation="Car and Driver 2023-12")
_RWD_LFP = phrase("battery.trim.rear_wheel_drive_lfp")
_AWD = phrase("battery.trim.all_wheel_drive")
Source = Text | tuple[Text, ...]


def _either(*names: Text) -> Text:
    """`A or B or C`, in the reader's language."""
    said = names[0]
    for name in names[1:]:
        said = phrase("battery.baseline.either", first=said, second=name)
    return said


def _row(
    model: str,
    name: str,
    trims: tuple[str, ...],
    years: tuple[int, int | None],
    miles: int | tuple[int, int],
    usable_kwh: str,
    source: Source,
    *,
    title: Text | None = None,
    chemistry: Chemistry = "NCA",
    wheels: int | None = None,
    car_types: tuple[str, ...] = (),
    factories: tuple[str, ...] = (),
    error: int = 0,
) -> PackBaseline:
    """One table row; `miles` is a pair where the model year saw two ratings and the car does not say which."""
    low, high = (miles, miles) if isinstance(miles, int) else miles
    middle = (Decimal(low) + Decimal(high)) / 2
    spread = (Decimal(high) - Decimal(low)) / 2 / middle * _HUNDRED
    rating = (
        phrase("battery.source.rating_miles", miles=str(low))
        if low == high
        else phrase("battery.source.rating_miles_span", low=str(low), high=str(high))
    )
    basis, *more = source if isinstance(source, tuple) else (source,)
    named: Text = Joined((model, title)) if title is not None else f"{model} {name}"
    # An open-ended entry may meet a later model year with a revised rating.
    extra = error + (2 if years[1] is None else 0)
    slug = re.sub(r"[^a-z0-9]+", "_", f"{model} {name} {years[0]}".lower())
    return PackBaseline(
        key=slug + (f"_{wheels}in" if wheels else ""),
        model=model,
        label=phrase("battery.baseline.wheels", baseline=named, inches=str(wheels)) if wheels else named,
        chemistry=chemistry,
        usable_kwh=Decimal(usable_kwh),
        rated_range_km=_round(middle * MILES_TO_KM, ROUND_HALF_UP),
        model_years=years,
        citation=(
            Joined((basis, rating), ": "),
            *more,
            _KWH,
            *((_CURRENT,) if years[1] is None else ()),
        ),
        trims=trims,
        wheel_inches=wheels,
        car_types=car_types,
        factories=factories,
        rating_error_percent=_round(spread + extra, ROUND_CEILING),
        name=name,
    )


def _by_factory(entry: PackBaseline) -> tuple[PackBaseline, PackBaseline]:
    """The US-built (NCA) entry and its Shanghai/Berlin-built (NCM) twin, which borrows the US rating with doubt."""
    twin = replace(
        entry,
        key=f"{entry.key}_ncm",
        label=phrase("battery.baseline.built_in_china_or_europe", baseline=entry.label),
        chemistry="NCM",
        factories=_CN_EU,
        citation=(*entry.citation, phrase("battery.source.us_rating_for_ncm")),
        rating_error_percent=entry.rating_error_percent + 2,
    )
    return replace(entry, label=phrase("battery.baseline.built_in_us", baseline=entry.label), factories=_US), twin


_S, _X, _M3, _Y = "Model S", "Model X", "Model 3", "Model Y"
_100D_OR_LR = _either("100D", "Long Range")
_LR_OR = _either("Long Range", "Long Range Plus")
_LR, _P = ("74d",), ("p74d",)

BASELINES: tuple[PackBaseline, ...] = (
    # Model S and Model X: Panasonic 18650 NCA throughout. A year with a mid-year re-rating spans both ratings.
    _row(_S, "75D", ("75d",), (2017, 2019), 259, "72.5", _EPA, error=1),
    _row(_S, "100D", ("100d",), (2017, 2018), 335, "98", _EPA, error=1),
    _row(_S, "100D or Long Range", ("100d",), (2019, 2019), (335, 370), "98", _EPA, error=1, title=_100D_OR_LR),
    _row(_S, "Long Range or Long Range Plus", ("100d",), (2020, 2020), (370, 402), "98", _EPA, error=1, title=_LR_OR),
    # Model year 2021 was built both before and after the refresh; car_type tells them apart.
    _row(_S, "Long Range Plus", ("100d",), (2021, 2021), 402, "98", _EPA, car_types=("models2",), error=1),
    _row(_S, "Long Range", ("100d",), (2021, 2023), 405, "95", (_EPA, _S24), wheels=19, car_types=("models",)),
    _row(_S, "Long Range", ("100d",), (2024, None), 402, "95", (_EPA, _S24), wheels=19),
    _row(_S, "Long Range", ("100d",), (2024, None), 380, "95", (_TESLA, _S24), wheels=21, error=2),
    _row(_S, "Plaid", ("plaid",), (2021, 2023), 396, "95", (_EPA, _S24), wheels=19),
    _row(_S, "Plaid", ("plaid",), (2024, None), 359, "95", (_EPA, _S24), wheels=19),
    _row(_S, "Plaid", ("plaid",), (2024, None), 320, "95", (_TESLA, _S24), wheels=21, error=2),
    _row(_X, "75D", ("75d",), (2017, 2019), 238, "72.5", _EPA, error=1),
    _row(_X, "100D", ("100d",), (2017, 2018), 295, "98", _EPA, error=1),
    _row(_X, "100D or Long Range", ("100d",), (2019, 2019), (295, 325), "98", _EPA, error=1, title=_100D_OR_LR),
    _row(_X, "Long Range or Long Range Plus", ("100d",), (2020, 2020), (325, 351), "98", _EPA, error=1, title=_LR_OR),
    _row(_X, "Long Range Plus", ("100d",), (2021, 2021), 371, "98", (_EPA, _X21), wheels=20),
    _row(_X, "Long Range", ("100d",), (2022, 2023), 348, "95", (_EPA, _X22), wheels=20),
    _row(_X, "Long Range", ("100d",), (2022, 2022), 332, "95", (_TESLA, _X22), wheels=22, error=2),
    _row(_X, "Long Range", ("100d",), (2023, 2023), 330, "95", (_TESLA, _X24), wheels=22, error=2),
    _row(_X, "Long Range", ("100d",), (2024, None), 335, "95", (_EPA, _X24), wheels=20),
    _row(_X, "Long Range", ("100d",), (2024, None), 322, "95", (_TESLA, _X24), wheels=22, error=2),
    _row(_X, "Plaid", ("plaid",), (2022, 2023), 333, "95", (_EPA, _X22), wheels=20),
    _row(_X, "Plaid", ("plaid",), (2022, 2023), 311, "95", (_EPA, _X24), wheels=22),
    _row(_X, "Plaid", ("plaid",), (2024, None), 326, "95", (_EPA, _X24), wheels=20),
    _row(_X, "Plaid", ("plaid",), (2024, None), 300, "95", (_TESLA, _X24), wheels=22, error=2),
    # Model 3 Standard Range Plus / Rear-Wheel Drive: NCA in the US until 2021, CATL LFP from model year 2022
    # (19-inch wheels: 267 mi instead of 272, within the model error, so one row for all wheels).
    _row(_M3, "Standard Range Plus (NCA)", ("50",), (2019, 2019), 240, "50", _EPA, factories=_US, error=1),
    _row(_M3, "Standard Range Plus (NCA)", ("50",), (2020, 2020), 250, "50", _EPA, factories=_US, error=1),
    _row(_M3, "Standard Range Plus (NCA)", ("50",), (2021, 2021), 263, "52.5", _EPA, factories=_US, error=1),
    # No EPA label exists for the Shanghai-built LFP Standard Range Plus: assumed between its neighbours.
    _row(
        _M3,
        "Standard Range Plus (LFP)",
        ("50",),
        (2021, 2021),
        (263, 272),
        "55",
        _SR_LFP,
        chemistry="LFP",
        factories=("LRW",),
        error=3,
    ),
    _row(
        _M3,
        "Rear-Wheel Drive (LFP)",
        ("50",),
        (2022, None),
        272,
        "57.5",
        (_EPA, _M3_22, _M3_24),
        chemistry="LFP",
        title=_RWD_LFP,
    ),
    # Model 3 Long Range AWD; the 19-inch option costs 7 %, so the splits matter.
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2018, 2019), 310, "75", _EPA, error=1)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2020, 2020), 322, "75", _EPA, error=1)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2021, 2021), 353, "75", _EPA, wheels=18, error=1)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2022, 2022), 358, "75", (_EPA, _M3_24), wheels=18)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2022, 2022), 334, "75", (_TESLA, _M3_23), wheels=19, error=2)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2023, 2023), (333, 358), "75", (_EPA, _M3_24), wheels=18)),
    *_by_factory(_row(_M3, "Long Range AWD", _LR, (2024, None), 342, "75", (_EPA, _M3_24), wheels=18)),
    # Model 3 Performance came on its own 20-inch wheels only.
    *_by_factory(_row(_M3, "Performance", _P, (2018, 2019), 310, "75", _EPA, error=1)),
    *_by_factory(_row(_M3, "Performance", _P, (2020, 2020), 299, "75", (_EPA, _Y20))),
    *_by_factory(_row(_M3, "Performance", _P, (2021, 2023), 315, "75", (_EPA, _M3_22, _M3_24))),
    # Edmunds quotes 303 mi (EPA); Tesla first published 296 mi.
    *_by_factory(_row(_M3, "Performance", _P, (2024, None), (296, 303), "75", (_EPA, "Edmunds 2024", _M3_24))),
    # Model Y Long Range AWD and Performance.
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2020, 2020), 316, "75", _EPA, wheels=19, error=1)),
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2021, 2021), 326, "75", _EPA, wheels=19, error=1)),
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2022, 2023), 330, "75", (_EPA, _Y23), wheels=19)),
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2022, 2023), 318, "75", (_TESLA, _Y23), wheels=20, error=2)),
    *_by_factory(_row(_Y, "Long Range AWD", _LR, (2024, None), 310, "75", (_EPA, _Y24), wheels=19)),
    *_by_factory(_row(_Y, "Performance", _P, (2020, 2020), 315, "75", (_EPA, _Y20), wheels=19, error=1)),
    *_by_factory(_row(_Y, "Performance", _P, (2020, 2020), 280, "75", (_TESLA, _Y20), wheels=21, error=2)),
    *_by_factory(_row(_Y, "Performance", _P, (2021, 2023), 303, "75", (_EPA, _Y23))),
    *_by_factory(_row(_Y, "Performance", _P, (2024, None), 279, "75", (_EPA, _Y24))),
    # Model Y RWD from Shanghai (CATL) and Berlin (BYD) is LFP, with no EPA label: the US RWD figures are borrowed
    # with a wide error. The US-built RWD pack's chemistry is not established here, so those cars get no baseline.
    _row(
        _Y,
        "Rear-Wheel Drive (LFP)",
        ("74",),
        (2021, None),
        260,
        "57.5",
        _Y_RWD,
        chemistry="LFP",
        title=_RWD_LFP,
        factories=_CN_EU,
        wheels=19,
        error=5,
    ),
    _row(
        _Y,
        "Rear-Wheel Drive (LFP)",
        ("74",),
        (2021, None),
        242,
        "57.5",
        _Y_RWD,
        chemistry="LFP",
        title=_RWD_LFP,
        factories=_CN_EU,
        wheels=20,
        error=5,
    ),
    # Cybertruck: 4680 NCM cells; heavy-duty by weight, so no EPA label (Tesla ran the EPA method itself).
    _row(
        "Cybertruck",
        "All-Wheel Drive",
        ("awd",),
        (2024, None),
        318,
        "122.4",
        (_TESLA, _CT),
        title=_AWD,
        chemistry="NCM",
        error=2,
    ),
    _row(
        "Cybertruck",
        "Cyberbeast",
        ("cyberbeast",),
        (2024, None),
        301,
        "122.4",
        (_TESLA, _CT),
        chemistry="NCM",
        error=2,
    ),
)

# Tesla's variant codes (`car_type`): the model each names, and the refreshed Model S (models2 is the older body).
_VARIANT_MODELS = {
    "models": "Model S",
    "models2": "Model S",
    "modelx": "Model X",
    "model3": "Model 3",
    "modely": "Model Y",
    "cybertruck": "Cybertruck",
}


def baseline_for(identity: VehicleIdentity) -> PackBaseline | None:
    """The configuration this car was sold with, from model, trim badge, year, wheels and factory; None if unknown.

    Where the car does not say enough to pick one rating (a model year with two, wheels without a published
    figure), the baseline spans every rating it could have, and its rating error widens the estimate's band.
    """
    variant = identity.variant
    model = identity.model or _VARIANT_MODELS.get(variant or "")
    if variant in _VARIANT_MODELS and _VARIANT_MODELS[variant] != model:
        return None
    trim = (identity.trim or "").lower()
    vin = identity.vin.upper()
    factory = vin[:3] if len(vin) == 17 else None
    family = [entry for entry in BASELINES if entry.model == model and trim in entry.trims]
    candidates = [
        entry
        for entry in family
        if (variant is None or not entry.car_types or variant in entry.car_types)
        and (factory is None or not entry.factories or factory in entry.factories)
    ]
    # VIN position 7 is the battery type; F is lithium iron phosphate.
    if len(vin) == 17 and vin[6] == "F":
        candidates = [entry for entry in candidates if entry.chemistry == "LFP"]
    candidates = _by_year(candidates, family, identity.year)
    if not candidates or len({entry.chemistry for entry in candidates}) > 1:
        return None
    return _by_wheels(candidates, identity.wheel_inches)


def _by_year(candidates: list[PackBaseline], family: list[PackBaseline], year: int | None) -> list[PackBaseline]:
    if year is None:
        return candidates if len({entry.model_years for entry in candidates}) == 1 else []
    matching = [entry for entry in candidates if entry.covers(year)]
    if matching or not candidates:
        return matching
    # The badge says which configuration it is; a year outside every rating of that badge (a VIN year before the
    # badge was sold) takes the nearest generation. A year between two ratings of one badge has no baseline.
    if year < min(entry.model_years[0] for entry in family):
        first = min(entry.model_years[0] for entry in candidates)
        return [entry for entry in candidates if entry.model_years[0] == first]
    if all(entry.model_years[1] is not None and year > entry.model_years[1] for entry in family):
        last = max(entry.model_years[1] or 0 for entry in candidates)
        return [entry for entry in candidates if entry.model_years[1] == last]
    return []


def _by_wheels(candidates: list[PackBaseline], wheels: int | None) -> PackBaseline:
    exact = [entry for entry in candidates if entry.wheel_inches is not None and entry.wheel_inches == wheels]
    unsplit = [entry for entry in candidates if entry.wheel_inches is None]
    if exact or unsplit:
        return spanning(exact or unsplit)
    if wheels is None:
        return spanning(candidates)
    distance = min(abs((entry.wheel_inches or 0) - wheels) for entry in candidates)
    nearest = [entry for entry in candidates if abs((entry.wheel_inches or 0) - wheels) == distance]
    if len({entry.wheel_inches for entry in nearest}) > 1:
        # A size between two published ones: its rating lies between theirs.
        return spanning(nearest)
    return _unrated_wheels(spanning(nearest), wheels)


def spanning(entries: Sequence[PackBaseline]) -> PackBaseline:
    """One entry as it is; several as one baseline whose rating interval covers all of theirs."""
    if len(entries) == 1:
        return entries[0]
    low = min(entry.rated_range_interval_km[0] for entry in entries)
    high = max(entry.rated_range_interval_km[1] for entry in entries)
    first = entries[0]
    rated, error = _interval(low, high)
    return replace(
        first,
        key="|".join(entry.key for entry in entries),
        label=_either(*dict.fromkeys(entry.label for entry in entries)),
        usable_kwh=statistics.median(entry.usable_kwh for entry in entries),
        citation=tuple(dict.fromkeys(part for entry in entries for part in entry.citation)),
        wheel_inches=None if len({entry.wheel_inches for entry in entries}) > 1 else first.wheel_inches,
        rated_range_km=rated,
        rating_error_percent=error,
    )


def _unrated_wheels(entry: PackBaseline, wheels: int) -> PackBaseline:
    """The entry for the nearest published wheel size, its rating interval stretched towards the car's wheels."""
    inches = wheels - (entry.wheel_inches or wheels)
    low, high = entry.rated_range_interval_km
    if inches > 0:
        low = low * (1 - WHEEL_PENALTY_PER_INCH * inches)
    else:
        high = high * (1 - WHEEL_PENALTY_PER_INCH * inches)
    rated, error = _interval(low, high)
    return replace(
        entry,
        key=f"{entry.key}@{wheels}in",
        label=phrase("battery.baseline.unrated_wheels", baseline=entry.label, inches=str(wheels)),
        wheel_inches=wheels,
        rated_range_km=rated,
        rating_error_percent=error,
    )


def _interval(low: Decimal, high: Decimal) -> tuple[Decimal, Decimal]:
    """The middle of a rating interval and its half-width in percent."""
    middle = (low + high) / 2
    return _round(middle, ROUND_HALF_UP), _round((high - low) / 2 / middle * _HUNDRED, ROUND_CEILING)


def configurations() -> tuple[PackBaseline, ...]:
    """Every configuration as sold, whatever its wheels: the rows of one name, chemistry and factories whose model
    years overlap, spanned into one baseline (what a car's VIN alone can be compared with)."""
    groups: list[list[PackBaseline]] = []
    for entry in sorted(BASELINES, key=lambda entry: (_family(entry), entry.model_years[0])):
        last = groups[-1] if groups else None
        if last is not None and _family(last[0]) == _family(entry) and _overlaps(last, entry):
            last.append(entry)
        else:
            groups.append([entry])
    merged = []
    for group in groups:
        first_year = min(entry.model_years[0] for entry in group)
        ends = [entry.model_years[1] for entry in group]
        years = (first_year, None if None in ends else max(end for end in ends if end is not None))
        key = re.sub(r"_\d+in", "", group[0].key)
        merged.append(replace(spanning(group), key=key, model_years=years, wheel_inches=None))
    return tuple(merged)


def _family(entry: PackBaseline) -> tuple[str, str, str, tuple[str, ...], tuple[str, ...]]:
    return entry.model, entry.name or "", entry.chemistry, entry.factories, entry.car_types


def _overlaps(group: list[PackBaseline], entry: PackBaseline) -> bool:
    start, end = entry.model_years
    return any(
        (last is None or start <= last) and (end is None or first <= end)
        for first, last in (member.model_years for member in group)
    )
