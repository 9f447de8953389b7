"""The reader's region and report values formatted for it: units, languages, time zones, odd provider values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carpulse.kit.i18n import LOCALES, UnsupportedLocale
from carpulse.kit.region import FieldType, RegionContext, format_field, format_freshness, format_value
from carpulse.provider.fields import FieldDef, FieldValue, Section
from carpulse.provider.tesla.fields import TESLA_ENUMS, TESLA_FIELDS

ODOMETER = TESLA_FIELDS["vehicle_data.vehicle_state.odometer"]
ENERGY = TESLA_FIELDS["vehicle_data.charge_state.energy_remaining"]
OUTSIDE = TESLA_FIELDS["vehicle_data.climate_state.outside_temp"]
TYRE = TESLA_FIELDS["vehicle_data.vehicle_state.tpms_pressure_fl"]
SPEED = TESLA_FIELDS["vehicle_data.drive_state.speed"]
CAPTURED = TESLA_FIELDS["vehicle_data.charge_state.timestamp"]
TPMS_SEEN = TESLA_FIELDS["vehicle_data.vehicle_state.tpms_last_seen_pressure_time_fl"]
CHARGE_START = TESLA_FIELDS["charging_history[].chargeStartDateTime"]
WARRANTY_DATE = TESLA_FIELDS["warranty.activeWarranty[].expirationDate"]
WARRANTY_DISTANCE = TESLA_FIELDS["warranty.activeWarranty[].expirationOdometer"]
COVERAGE = TESLA_FIELDS["warranty.activeWarranty[].coverageAgeInYears"]
LEVEL = TESLA_FIELDS["vehicle_data.charge_state.battery_level"]
TO_FULL = TESLA_FIELDS["vehicle_data.charge_state.time_to_full_charge"]
UPDATE_TIME = TESLA_FIELDS["vehicle_data.vehicle_state.software_update.expected_duration_sec"]
OFF_PEAK_END = TESLA_FIELDS["vehicle_data.charge_state.off_peak_hours_end_time"]
LOCKED = TESLA_FIELDS["vehicle_data.vehicle_state.locked"]
FEE = TESLA_FIELDS["charging_history[].fees[].totalDue"]
COUNTRY = TESLA_FIELDS["charging_history[].countryCode"]
VOLTAGE = TESLA_FIELDS["vehicle_data.charge_state.pack_voltage"]
SITE = TESLA_FIELDS["charging_history[].siteLocationName"]


def field(type_: FieldType, unit: str | None = None, **options: Any) -> FieldDef:
    return FieldDef(key="test.value", type=type_, unit=unit, section=Section.battery, label_key="field.x", **options)


def spaces(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ").replace("\u2212", "-")


def show(definition: FieldDef, value: Any, locale: str = "en", country: str | None = None, **options: Any) -> str:
    ctx = RegionContext.build(locale, country=country)
    return spaces(format_value(definition, value, ctx, TESLA_ENUMS, **options))


class TestRegionDefaults:
    @pytest.mark.parametrize(
        ("country", "distance", "temperature", "pressure", "currency", "zone"),
        [
            ("FI", "km", "C", "bar", "EUR", "Europe/Helsinki"),
            ("DE", "km", "C", "bar", "EUR", "Europe/Berlin"),
            ("SE", "km", "C", "bar", "SEK", "Europe/Stockholm"),
            ("NO", "km", "C", "bar", "NOK", "Europe/Oslo"),
            ("US", "mi", "F", "psi", "USD", "UTC"),
            ("LR", "mi", "F", "psi", "LRD", "Africa/Monrovia"),
            ("MM", "mi", "F", "psi", "MMK", "Asia/Yangon"),
            ("GB", "mi", "C", "psi", "GBP", "Europe/London"),
            ("CA", "km", "C", "psi", "CAD", "UTC"),
            (None, "km", "C", "bar", "EUR", "UTC"),
        ],
    )
    def test_by_country(
        self, country: str | None, distance: str, temperature: str, pressure: str, currency: str, zone: str
    ) -> None:
        ctx = RegionContext.build("en", country=country)

        assert (ctx.distance_unit, ctx.temperature_unit, ctx.pressure_unit) == (distance, temperature, pressure)
        assert ctx.currency == currency
        assert str(ctx.time_zone) == zone

    def test_country_codes_are_normalised(self) -> None:
        assert RegionContext.build("fi", country="fi").country == "FI"

    def test_locale_tags_reduce_to_our_locales(self) -> None:
        assert RegionContext.build("nb-NO").locale == "no"
        assert RegionContext.build("fi_FI").locale == "fi"

    @pytest.mark.parametrize("country", ["FIN", "F", "1A", ""])
    def test_a_malformed_country_is_refused(self, country: str) -> None:
        with pytest.raises(ValueError, match="ISO 3166"):
            RegionContext.build("en", country=country)

    def test_an_unsupported_locale_is_refused(self) -> None:
        with pytest.raises(UnsupportedLocale):
            RegionContext.build("pt-BR")

    def test_explicit_currency_and_time_zone(self) -> None:
        ctx = RegionContext.build("sv", country="FI", currency="sek", time_zone="America/New_York")

        assert ctx.currency == "SEK"
        assert ctx.time_zone == ZoneInfo("America/New_York")
        plus_two = timezone(timedelta(hours=2))
        assert RegionContext.build("en", time_zone=plus_two).time_zone is plus_two

    def test_bad_currency_or_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="ISO 4217"):
            RegionContext.build("en", currency="EURO")
        with pytest.raises(ValueError, match="time zone"):
            RegionContext.build("en", time_zone="Mars/Olympus_Mons")

    def test_frozen(self) -> None:
        ctx = RegionContext.build("en")

        with pytest.raises(AttributeError):
            ctx.distance_unit = "mi"  # type: ignore[misc]


class TestCarPreferencesWin:
    def test_a_metric_car_in_the_us(self) -> None:
        ctx = RegionContext.build(
            "en", country="US", distance_units="km/hr", temperature_units="C", pressure_units="Bar"
        )

        assert (ctx.distance_unit, ctx.temperature_unit, ctx.pressure_unit) == ("km", "C", "bar")
        assert ctx.currency == "USD"

    def test_an_imperial_car_in_finland(self) -> None:
        ctx = RegionContext.build(
            "fi", country="FI", distance_units="mi/hr", temperature_units="F", pressure_units="Psi"
        )

        assert (ctx.distance_unit, ctx.temperature_unit, ctx.pressure_unit) == ("mi", "F", "psi")
        assert spaces(format_value(ODOMETER, 100, ctx)) == "100 mi"

    def test_kpa_reads_as_metric(self) -> None:
        assert RegionContext.build("en", country="US", pressure_units="kPa").pressure_unit == "bar"

    @pytest.mark.parametrize("odd", ["furlongs", "", "<invalid>", 7, None])
    def test_settings_we_do_not_know_are_ignored(self, odd: Any) -> None:
        ctx = RegionContext.build("en", country="US", distance_units=odd, temperature_units=odd, pressure_units=odd)

        assert (ctx.distance_unit, ctx.temperature_unit, ctx.pressure_unit) == ("mi", "F", "psi")


class TestUnitConversions:
    def test_miles_to_kilometres(self) -> None:
        assert show(ODOMETER, 100, "en", "FI") == "161 km"
        assert show(ODOMETER, 24871.388412, "en", "FI") == "40,027 km"

    def test_imperial_for_the_us(self) -> None:
        assert show(ODOMETER, 24871.388412, "en", "US") == "24,871 mi"
        assert show(SPEED, 65, "en", "US") == "65 mph"
        assert show(OUTSIDE, 20, "en", "US") == "68.0°F"
        assert show(TYRE, 2.9, "en", "US") == "42 psi"

    def test_kilometres_to_miles_from_a_sibling_unit(self) -> None:
        # Tesla states warranty limits in the market's unit, next to the value.
        assert show(WARRANTY_DISTANCE, 80000, "en", "US", unit="KM") == "49,710 mi"
        assert show(WARRANTY_DISTANCE, 50000, "en", "FI", unit="MI") == "80,467 km"
        assert show(WARRANTY_DISTANCE, 80000, "en", "FI", unit="KM") == "80,000 km"

    def test_speed_follows_the_distance_unit(self) -> None:
        assert show(SPEED, 65, "en", "FI") == "105 km/h"
        assert show(field(FieldType.speed, "km/h"), 100, "en", "US") == "62 mph"

    def test_celsius_and_fahrenheit_both_ways(self) -> None:
        assert show(OUTSIDE, -40, "en", "US") == "-40.0°F"
        assert show(OUTSIDE, 100, "en", "US") == "212.0°F"
        assert show(field(FieldType.temperature, "F"), 212, "en", "FI") == "100.0°C"

    def test_bar_and_psi_both_ways(self) -> None:
        assert show(TYRE, 2.9, "en", "FI") == "2.90 bar"
        assert show(TYRE, 2.9, "en", "GB") == "42 psi"
        assert show(field(FieldType.pressure, "psi"), 42, "en", "FI") == "2.90 bar"
        assert show(field(FieldType.pressure, "kPa"), 290, "en", "FI") == "2.90 bar"

    def test_watts_to_kilo(self) -> None:
        assert show(field(FieldType.energy, "Wh"), 44340, "en") == "44.3 kWh"
        assert show(field(FieldType.power, "W"), 11000, "en") == "11.0 kW"

    def test_a_field_may_ask_for_its_own_decimals(self) -> None:
        assert show(VOLTAGE, 376.71, "en") == "377 V"
        assert show(field(FieldType.energy, "kWh", decimals=2), 44.345, "en") == "44.35 kWh"


class TestLanguages:
    @pytest.mark.parametrize(
        ("locale", "country", "odometer", "energy", "temperature", "tyre"),
        [
            ("en", "FI", "40,027 km", "44.3 kWh", "-3.5°C", "2.90 bar"),
            ("fi", "FI", "40 027 km", "44,3 kWh", "-3,5 °C", "2,90 bar"),
            ("de", "DE", "40.027 km", "44,3 kWh", "-3,5 °C", "2,90 bar"),
        ],
    )
    def test_decimal_and_group_separators(
        self, locale: str, country: str, odometer: str, energy: str, temperature: str, tyre: str
    ) -> None:
        assert show(ODOMETER, 24871.388412, locale, country) == odometer
        assert show(ENERGY, 44.34, locale, country) == energy
        assert show(OUTSIDE, -3.5, locale, country) == temperature
        assert show(TYRE, 2.9, locale, country) == tyre

    @pytest.mark.parametrize(
        ("locale", "country", "text"),
        [
            ("en", None, "Mar 5, 2026, 12:00 PM"),
            ("fi", "FI", "5.3.2026 14.00"),
            ("de", "DE", "05.03.2026, 13:00"),
        ],
    )
    def test_moments_in_the_readers_time_zone(self, locale: str, country: str | None, text: str) -> None:
        assert show(CAPTURED, 1772712000000, locale, country) == text
        assert show(TPMS_SEEN, 1772712000, locale, country) == text
        assert show(CHARGE_START, "2026-03-05T13:00:00+01:00", locale, country) == text

    def test_an_iso_moment_without_offset_is_utc(self) -> None:
        assert show(CHARGE_START, "2026-03-05T12:00:00", "fi", "FI") == "5.3.2026 14.00"

    def test_calendar_dates_are_not_moved_across_time_zones(self) -> None:
        ctx = RegionContext.build("en", country="US", time_zone="America/Los_Angeles")

        assert format_value(WARRANTY_DATE, "2029-06-05T00:00:00Z", ctx) == "Jun 5, 2029"
        assert spaces(format_value(CHARGE_START, "2026-03-05T01:00:00+00:00", ctx)) == "Mar 4, 2026, 5:00 PM"

    @pytest.mark.parametrize(
        ("locale", "yes", "no", "missing"),
        [
            ("en", "Yes", "No", "Not available"),
            ("fi", "Kyllä", "Ei", "Ei saatavilla"),
            ("de", "Ja", "Nein", "Nicht verfügbar"),
            ("fr", "Oui", "Non", "Non disponible"),
        ],
    )
    def test_booleans_and_missing_values_are_translated(self, locale: str, yes: str, no: str, missing: str) -> None:
        assert show(LOCKED, True, locale) == yes
        assert show(LOCKED, False, locale) == no
        assert show(LOCKED, 1, locale) == yes
        assert show(LOCKED, "false", locale) == no
        assert show(LOCKED, None, locale) == missing
        assert show(ODOMETER, None, locale) == missing

    @pytest.mark.parametrize(
        ("locale", "hour_and_half", "update", "day"),
        [
            ("en", "1 hr 30 min", "45 min", "1 day 1 hr"),
            ("fi", "1 t 30 min", "45 min", "1 pv 1 t"),
            ("de", "1 Std., 30 Min.", "45 Min.", "1 Tg., 1 Std."),
        ],
    )
    def test_durations_read_as_hours_and_minutes(self, locale: str, hour_and_half: str, update: str, day: str) -> None:
        assert show(TO_FULL, 1.5, locale) == hour_and_half
        assert show(UPDATE_TIME, 2700, locale) == update
        assert show(TO_FULL, 25.02, locale) == day

    @pytest.mark.parametrize("locale", LOCALES)
    def test_durations_work_in_every_locale(self, locale: str) -> None:
        # Babel lacks some list patterns (Spanish unit-short); every locale must still format.
        for hours in (0, 0.01, 1.5, 30, -2):
            text = show(TO_FULL, hours, locale)
            assert text
            assert text != show(TO_FULL, None, locale)

    def test_short_durations(self) -> None:
        assert show(TO_FULL, 0, "en") == "0 min"
        assert show(TO_FULL, 0.01, "en") == "36 sec"
        assert show(TO_FULL, -1.5, "en") == "-1 hr 30 min"

    def test_years_are_spelled_out(self) -> None:
        assert show(COVERAGE, 8, "en") == "8 years"
        assert show(COVERAGE, 8, "de") == "8 Jahre"

    @pytest.mark.parametrize(("locale", "text"), [("en", "6:00 AM"), ("fi", "6.00"), ("de", "06:00")])
    def test_times_of_day(self, locale: str, text: str) -> None:
        assert show(OFF_PEAK_END, 360, locale) == text

    @pytest.mark.parametrize("minutes", [-1, 1440, 90.5])
    def test_impossible_times_of_day_are_not_available(self, minutes: float) -> None:
        assert show(OFF_PEAK_END, minutes, "en") == "Not available"

    def test_percent(self) -> None:
        assert show(LEVEL, 84, "fi") == "84 %"
        assert show(LEVEL, 84, "en") == "84%"
        assert show(LEVEL, 83.6, "en") == "84%"

    def test_money_in_the_fees_own_currency(self) -> None:
        assert show(FEE, 21.32, "fi", "FI", unit="EUR") == "21,32 €"
        assert show(FEE, 21.32, "en", "FI", unit="usd") == "$21.32"
        assert show(FEE, 49, "sv", "SE", unit="SEK") == "49,00 kr"
        assert show(FEE, 0.005, "en", "FI", unit="EUR") == "€0.01"  # half up

    def test_money_without_a_currency_uses_the_readers(self) -> None:
        assert show(FEE, 21.32, "de", "DE") == "21,32 €"
        assert show(FEE, 21.32, "en", "US") == "$21.32"

    def test_money_in_a_nonsense_currency_is_a_plain_amount(self) -> None:
        assert show(FEE, 21.32, "de", "DE", unit="<invalid>") == "21,32"

    def test_country_codes_read_as_names(self) -> None:
        assert show(COUNTRY, "DE", "fi") == "Saksa"
        assert show(COUNTRY, "de", "en") == "Germany"
        assert show(COUNTRY, "XX", "en") == "XX"

    def test_text_is_shown_as_sent(self) -> None:
        assert show(SITE, "  München - Freimann ", "en") == "München - Freimann"
        assert show(field(FieldType.text), ["a", 2, None, {"x": 1}], "en") == "a, 2"
        assert show(field(FieldType.text), 48213377, "en") == "48213377"

    def test_a_number_keeps_a_unit_we_cannot_name_but_not_garbage(self) -> None:
        number = field(FieldType.number)

        assert show(number, 5, "en", unit="furlongs") == "5 furlongs"
        assert show(number, 5, "en", unit="<invalid>") == "5"
        assert show(number, 5, "en", unit="not a unit at all") == "5"
        assert show(number, 1234.5, "fi", unit="V") == "1 234,5 V"

    def test_format_field_takes_the_unit_found_in_the_payload(self) -> None:
        value = FieldValue(WARRANTY_DISTANCE, 80000, None, "warranty.activeWarranty[0].expirationOdometer", "KM")
        ctx = RegionContext.build("en", country="FI")

        assert spaces(format_field(value, ctx, TESLA_ENUMS)) == "80,000 km"

    def test_an_enum_message_missing_from_the_catalogues_shows_the_raw_value(self) -> None:
        enum = field(FieldType.enum)

        assert show(enum, "Weird", "en") == "Weird"
        text = format_value(enum, "Weird", RegionContext.build("en"), {"Weird": "enum.not.in.catalogue"})
        assert text == "Weird"


ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["<invalid>", "", " ", "NaN", "inf", "1e999999", "2026-13-45", "Z", "-0", "12abc", "  42 "]),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
ODD_UNITS = st.sampled_from(
    [None, "", "KM", "MI", "kwh", "min", "EUR", "usd", "<invalid>", "furlongs", "epoch_ms", "iso", "iso_date"]
)
ALL_FIELDS = st.one_of(
    st.sampled_from(list(TESLA_FIELDS.values())),
    st.builds(field, st.sampled_from(list(FieldType)), ODD_UNITS),
)


class TestOddValuesNeverRaise:
    @settings(max_examples=400, deadline=None)
    @given(definition=ALL_FIELDS, value=ODD_VALUES, locale=st.sampled_from(LOCALES), unit=ODD_UNITS)
    def test_any_value_formats_to_some_text(
        self, definition: FieldDef, value: Any, locale: str, unit: str | None
    ) -> None:
        ctx = RegionContext.build(locale, country="US" if locale == "en" else "FI")

        text = format_value(definition, value, ctx, TESLA_ENUMS, unit=unit)

        assert isinstance(text, str)
        assert text
        # A catalogue key never leaks, unless the car sent that very text (hypothesis found the value "enum.").
        keys = ("field.", "enum.", "format.", "glossary.")
        assert not text.startswith(keys) or str(value).strip().startswith(keys)

    @pytest.mark.parametrize(
        "value", [float("nan"), float("inf"), "<invalid>", {"a": 1}, [], True, 10**40, -(10**40), Decimal("NaN")]
    )
    @pytest.mark.parametrize(
        "definition", [ODOMETER, ENERGY, OUTSIDE, TYRE, CAPTURED, WARRANTY_DATE, FEE, TO_FULL, OFF_PEAK_END, LEVEL]
    )
    def test_nonsense_in_a_numeric_or_date_field_is_not_available(self, definition: FieldDef, value: Any) -> None:
        assert show(definition, value, "en") == "Not available"

    def test_readable_nonsense_is_shown_as_sent(self) -> None:
        assert show(ODOMETER, "broken sensor", "en") == "broken sensor"
        assert show(CAPTURED, "yesterday", "en") == "Not available"
        assert show(CHARGE_START, "yesterday", "en") == "yesterday"
        assert show(ODOMETER, " 100 ", "en", "FI") == "161 km"


class TestFreshness:
    NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("locale", "text"), [("en", "2 hours ago"), ("fi", "2 tuntia sitten"), ("de", "vor 2 Stunden")]
    )
    def test_how_long_ago(self, locale: str, text: str) -> None:
        ctx = RegionContext.build(locale)

        assert format_freshness(self.NOW - timedelta(hours=2, minutes=5), self.NOW, ctx) == text

    def test_days_ago(self) -> None:
        assert format_freshness(self.NOW - timedelta(days=3), self.NOW, RegionContext.build("en")) == "3 days ago"

    @pytest.mark.parametrize("age", [timedelta(0), timedelta(seconds=59), timedelta(minutes=-5)])
    def test_just_now_including_clock_skew(self, age: timedelta) -> None:
        assert format_freshness(self.NOW - age, self.NOW, RegionContext.build("fi")) == "Juuri nyt"

    def test_unknown_capture_time(self) -> None:
        assert format_freshness(None, self.NOW, RegionContext.build("de")) == "Nicht verfügbar"

    def test_naive_times_are_refused(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            format_freshness(datetime(2026, 3, 5, 10, 0), self.NOW, RegionContext.build("en"))
