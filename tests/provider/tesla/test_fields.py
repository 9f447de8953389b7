"""The Tesla field map against the fake's payloads, the catalogues, and the real client's snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from carpulse.kit.clock import system_clock
from carpulse.kit.i18n import LOCALES, catalogue
from carpulse.kit.region import FieldType, RegionContext, format_field, format_value
from carpulse.provider.fields import GLOSSARY_TERMS, Section, extract, leaf_paths
from carpulse.provider.tesla.adapter import TeslaProvider
from carpulse.provider.tesla.client import unverified_claims
from carpulse.provider.tesla.fields import (
    TESLA_ENUM_TABLES,
    TESLA_ENUMS,
    TESLA_FIELDS,
    TESLA_IGNORED,
    tesla_capture_times,
)
from fakes.tesla_fleet import TeslaFleetFake, vehicle_data, warranty
from tests.provider.tesla.conftest import TeslaRig

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def fake_payloads() -> Iterator[dict[str, Any]]:
    """`VehicleSnapshot.raw` as the provider would fill it, for every vehicle of the fake, every section asked for."""
    fake = TeslaFleetFake(seed=7, clock=lambda: NOW)
    for account in fake.accounts.values():
        for vehicle in account.vehicles:
            yield {
                "vehicle_data": vehicle_data.vehicle_data(
                    vehicle, account, seed=fake.seed, now=NOW, sections=list(vehicle_data.SECTIONS), location=True
                ),
                "service_data": vehicle_data.service_data(vehicle, seed=fake.seed, anchor=fake.anchor),
                "recent_alerts": vehicle_data.recent_alerts(vehicle, seed=fake.seed, anchor=fake.anchor)[
                    "recent_alerts"
                ],
                "warranty": warranty.details(vehicle, today=fake.anchor),
                "charging_history": [session.to_json() for session in account.charging.query(vin=vehicle.vin)],
            }


PAYLOADS = list(fake_payloads())


def produced_leaves() -> set[str]:
    return set().union(*(leaf_paths(payload) for payload in PAYLOADS))


def covered(leaf: str) -> bool:
    # An empty list or object in one payload is covered by the fields of its items elsewhere.
    return leaf in TESLA_FIELDS or leaf in TESLA_IGNORED or any(path.startswith(f"{leaf}.") for path in TESLA_FIELDS)


class TestCoverage:
    def test_the_fake_is_varied_enough_to_be_a_fair_check(self) -> None:
        leaves = produced_leaves()

        assert len(PAYLOADS) >= 10
        assert "vehicle_data.drive_state.corrected_latitude" in leaves  # a Chinese car
        assert "service_data.service_etc" in leaves
        assert "warranty.expiredWarranty[].warrantyExpiredOn" in leaves
        assert "charging_history[].invoices[].contentId" in leaves

    def test_every_leaf_the_fake_produces_is_mapped_or_deliberately_ignored(self) -> None:
        assert sorted(leaf for leaf in produced_leaves() if not covered(leaf)) == []

    def test_the_ignore_list_is_not_stale(self) -> None:
        leaves = produced_leaves()

        assert sorted(set(TESLA_IGNORED) - leaves) == []
        assert sorted(set(TESLA_IGNORED) & set(TESLA_FIELDS)) == []
        assert all(reason for reason in TESLA_IGNORED.values())

    def test_about_two_hundred_and_fifty_fields_or_more(self) -> None:
        assert len(TESLA_FIELDS) >= 250
        assert {definition.section for definition in TESLA_FIELDS.values()} == set(Section)

    def test_field_keys_are_unique(self) -> None:
        keys = [definition.key for definition in TESLA_FIELDS.values()]

        assert len(keys) == len(set(keys))


class TestCatalogues:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_every_label_glossary_and_enum_message_exists(self, locale: str) -> None:
        ids = {str(message.id) for message in catalogue(locale) if message.id}
        needed = (
            {definition.label_key for definition in TESLA_FIELDS.values()}
            | {definition.glossary_key for definition in TESLA_FIELDS.values() if definition.glossary_key}
            | set(GLOSSARY_TERMS)
            | set(TESLA_ENUMS.values())
            | {"format.not_available", "format.yes", "format.no", "format.hidden", "format.just_now"}
        )

        assert sorted(needed - ids) == []

    def test_message_keys_use_our_prefixes(self) -> None:
        assert all(definition.label_key.startswith("field.") for definition in TESLA_FIELDS.values())
        assert all(message.startswith("enum.") for message in TESLA_ENUMS.values())


class TestEnums:
    def test_every_enum_field_has_a_table_and_every_table_a_field(self) -> None:
        enum_keys = {definition.key for definition in TESLA_FIELDS.values() if definition.type is FieldType.enum}

        assert set(TESLA_ENUM_TABLES) == enum_keys

    def test_the_flat_table_keeps_every_value(self) -> None:
        messages = {message for table in TESLA_ENUM_TABLES.values() for message in table.values()}

        assert set(TESLA_ENUMS.values()) == messages
        assert TESLA_ENUMS["Charging"] == "enum.charging_state.charging"

    @pytest.mark.parametrize(
        ("path", "raw", "locale", "text"),
        [
            ("vehicle_data.charge_state.charging_state", "Charging", "de", "Lädt"),
            ("vehicle_data.charge_state.charging_state", "NoPower", "en", "Plugged in, no power"),
            ("vehicle_data.drive_state.shift_state", "R", "fi", "Peruutus (R)"),
            ("vehicle_data.vehicle_state.df", 0, "fi", "Kiinni"),
            ("vehicle_data.vehicle_state.fd_window", 1, "en", "Slightly open"),
            ("vehicle_data.climate_state.seat_heater_left", 0, "fi", "Pois päältä"),
            ("vehicle_data.climate_state.seat_heater_left", 3, "sv", "Hög"),
            ("vehicle_data.climate_state.climate_keeper_mode", "dog", "fr", "Mode Chien"),
            ("vehicle_data.vehicle_config.trim_badging", "74d", "es", "Gran Autonomía, tracción total"),
            ("vehicle_data.vehicle_config.exterior_color", "DeepBlue", "it", "Blu intenso metallizzato"),
            ("vehicle_data.vehicle_config.wheel_type", "Gemini19", "de", "Gemini 19-Zoll-Felgen"),
            ("vehicle_data.vehicle_config.driver_assist", "TeslaAP4", "en", "Autopilot hardware 4 (HW4)"),
            ("vehicle_data.vehicle_state.software_update.status", "", "en", "No update waiting"),
            ("warranty.expiredWarranty[].warrantyType", "BATTERY_WARRANTY", "no", "Batterigaranti"),
            ("charging_history[].fees[].feeType", "PARKING", "da", "Ventegebyr"),
            ("recent_alerts[].audience[]", "service-fix", "en", "Needs a service repair"),
        ],
    )
    def test_values_read_in_the_readers_language(self, path: str, raw: Any, locale: str, text: str) -> None:
        assert format_value(TESLA_FIELDS[path], raw, RegionContext.build(locale), TESLA_ENUMS) == text

    @pytest.mark.parametrize("locale", ["en", "fi", "de"])
    def test_an_unknown_value_is_shown_as_tesla_sent_it(self, locale: str) -> None:
        ctx = RegionContext.build(locale)
        charging_state = TESLA_FIELDS["vehicle_data.charge_state.charging_state"]
        door = TESLA_FIELDS["vehicle_data.vehicle_state.df"]

        assert format_value(charging_state, "Exploding", ctx, TESLA_ENUMS) == "Exploding"
        assert format_value(door, 7, ctx, TESLA_ENUMS) == "7"
        assert "enum." not in format_value(charging_state, "Exploding", ctx, TESLA_ENUMS)

    def test_teslas_invalid_placeholder_reads_not_available(self) -> None:
        ctx = RegionContext.build("en")
        port = TESLA_FIELDS["vehicle_data.charge_state.fast_charger_type"]

        assert format_value(port, "<invalid>", ctx, TESLA_ENUMS) == "Not available"


class TestPackagesAndPrivacy:
    def test_basic_shows_identity_odometer_software_battery_warranty_and_alerts(self) -> None:
        basic = {d.key for d in TESLA_FIELDS.values() if d.in_package("basic") and not d.key.startswith("warranty.")}

        assert basic == {
            "vehicle.vin",
            "vehicle.display_name",
            "vehicle.online_state",
            "state.vehicle_name",
            "config.car_type",
            "config.trim_badging",
            "config.exterior_color",
            "config.wheel_type",
            "state.odometer",
            "software.car_version",
            "software.update_status",
            "software.update_version",
            "charge.battery_level",
            "charge.usable_battery_level",
            "charge.battery_range",
            "charge.est_battery_range",
            "alert.name",
            "alert.time",
            "alert.user_text",
            "alert.audience",
        }
        assert all(d.in_package("basic") for d in TESLA_FIELDS.values() if d.section is Section.warranty)

    def test_every_field_is_in_the_pro_report(self) -> None:
        assert all(definition.in_package("pro") for definition in TESLA_FIELDS.values())

    def test_location_and_personal_fields_are_sensitive(self) -> None:
        sensitive = {path for path, definition in TESLA_FIELDS.items() if definition.sensitive}
        location_like = {
            path
            for path in TESLA_FIELDS
            if any(word in path.rsplit(".", 1)[-1] for word in ("latitude", "longitude", "heading", "destination"))
        }

        assert location_like <= sensitive
        assert {
            "vehicle_data.drive_state.latitude",
            "vehicle_data.drive_state.longitude",
            "vehicle_data.drive_state.corrected_latitude",
            "vehicle_data.charge_schedule_data.charge_schedules[].latitude",
            "vehicle_data.vehicle_state.media_info.a2dp_source_name",
            "vehicle_data.vehicle_state.media_info.now_playing_title",
        } <= sensitive
        assert all(TESLA_FIELDS[path].section is Section.location for path in location_like)

    def test_sensitive_fields_never_print(self) -> None:
        latitude = TESLA_FIELDS["vehicle_data.drive_state.latitude"]

        assert format_value(latitude, 60.16952, RegionContext.build("en")) == "Hidden for privacy"
        assert "60" not in format_value(latitude, 60.16952, RegionContext.build("fi"))


class TestCaptureTimes:
    def test_vehicle_data_sections_carry_their_own_timestamp(self) -> None:
        raw = {
            "vehicle_data": {
                "vin": "X",
                "charge_state": {"timestamp": 1772712000123},
                "climate_state": {"timestamp": "soon"},
                "gui_settings": {"timestamp": -5},
                "vehicle_state": {},
            }
        }
        fallback = datetime(2026, 1, 1, tzinfo=UTC)
        captured_at = tesla_capture_times(raw, fallback)

        assert captured_at("vehicle_data.charge_state.battery_level") == datetime(
            2026, 3, 5, 12, 0, 0, 123000, tzinfo=UTC
        )
        assert captured_at("vehicle_data.climate_state.inside_temp") == fallback
        assert captured_at("vehicle_data.gui_settings.gui_distance_units") == fallback
        assert captured_at("vehicle_data.vehicle_state.odometer") == fallback
        assert captured_at("vehicle_data.vin") == fallback
        assert captured_at("warranty.activeWarranty[].expirationDate") == fallback
        assert tesla_capture_times({"vehicle_data": "garbage"}, None)("vehicle_data.charge_state.x") is None


async def provider_for(tesla: TeslaRig, account: str) -> TeslaProvider:
    fleet, tokens = await tesla.connect(account)
    scopes = unverified_claims(tokens.access).get("scp", [])
    return TeslaProvider(fleet, clock=system_clock, scopes=scopes, sleep=tesla._sleep, wake_poll_seconds=1)


class TestExtractFromASnapshot:
    async def test_the_real_clients_payloads_yield_report_fields(self, tesla: TeslaRig) -> None:
        provider = await provider_for(tesla, "solo")
        vin = tesla.fake.accounts["solo"].vehicles[0].vin
        snapshot = await provider.acquire(vin, include_history=False)

        values = extract(snapshot.raw, TESLA_FIELDS, tesla_capture_times(snapshot.raw, snapshot.captured_at))
        by_path = {value.path: value for value in values}
        level = by_path["vehicle_data.charge_state.battery_level"]
        stamp = snapshot.raw["vehicle_data"]["charge_state"]["timestamp"]

        assert snapshot.battery_level is not None
        assert level.value == snapshot.battery_level.value
        assert level.captured_at == datetime.fromtimestamp(stamp / 1000, UTC)
        assert by_path["vehicle_data.vin"].value == vin
        assert by_path["vehicle_data.vin"].captured_at == snapshot.captured_at
        assert by_path["warranty.activeWarranty[0].warrantyType"].value
        assert by_path["warranty.activeWarranty[0].expirationOdometer"].unit in ("KM", "MI")
        alerts = [value for value in values if value.field.key == "alert.name"]
        assert len(alerts) == len(snapshot.raw["recent_alerts"])
        assert not [value for value in values if value.field.sensitive]

    async def test_every_extracted_value_formats_in_every_locale(self, tesla: TeslaRig) -> None:
        provider = await provider_for(tesla, "family")
        vin = tesla.fake.accounts["family"].vehicles[0].vin
        snapshot = await provider.acquire(vin, include_location=True, include_history=False)
        values = extract(snapshot.raw, TESLA_FIELDS, include_sensitive=True)

        assert [value for value in values if value.field.key == "location.latitude"]
        for locale in LOCALES:
            ctx = RegionContext.build(locale, country="DE")
            texts = [format_field(value, ctx, TESLA_ENUMS) for value in values]
            assert all(texts)
            assert not [text for text in texts if text.startswith(("field.", "enum.", "format.", "glossary."))]
