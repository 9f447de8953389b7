"""The brand-agnostic field schema: definitions, walking raw payloads, enum tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from carpulse.kit.region import FieldType, enum_message
from carpulse.provider.fields import (
    BASIC_AND_PRO,
    GLOSSARY_TERMS,
    PRO_ONLY,
    FieldDef,
    Section,
    enum_key,
    extract,
    flatten_enums,
    leaf_paths,
)


def field(key: str = "test.value", type_: FieldType = FieldType.number, **options: Any) -> FieldDef:
    return FieldDef(key=key, type=type_, section=Section.battery, label_key=f"field.{key}", **options)


class TestFieldDef:
    def test_defaults_to_the_pro_package_only(self) -> None:
        definition = field()

        assert definition.packages == PRO_ONLY
        assert definition.in_package("pro")
        assert not definition.in_package("basic")
        assert field(packages=BASIC_AND_PRO).in_package("basic")
        assert not definition.sensitive

    @pytest.mark.parametrize(
        ("options", "problem"),
        [
            ({"key": "NoDots"}, "dotted"),
            ({"key": "has space.x"}, "dotted"),
            ({"label_key": "report.value"}, "field."),
            ({"glossary_key": "glossary.not_a_term"}, "GLOSSARY_TERMS"),
            ({"packages": frozenset()}, "subset"),
            ({"packages": frozenset({"bulk"})}, "subset"),
            ({"decimals": -1}, "negative"),
        ],
    )
    def test_refuses_malformed_definitions(self, options: dict[str, Any], problem: str) -> None:
        values: dict[str, Any] = {
            "key": "test.value",
            "type": FieldType.number,
            "section": Section.battery,
            "label_key": "field.test.value",
        } | options

        with pytest.raises(ValueError, match=problem):
            FieldDef(**values)

    def test_glossary_keys_are_glossary_messages(self) -> None:
        assert GLOSSARY_TERMS
        assert all(term.startswith("glossary.") for term in GLOSSARY_TERMS)
        assert len(set(GLOSSARY_TERMS)) == len(GLOSSARY_TERMS)
        assert field(glossary_key="glossary.tpms").glossary_key == "glossary.tpms"

    def test_field_types_keep_their_str_methods(self) -> None:
        # A member named like a str method (count, index...) would shadow it on every member.
        assert FieldType.text.count("t") == 2
        assert FieldType("number") is FieldType.number


RAW: dict[str, Any] = {
    "car": {"state": {"level": 68, "nothing": None, "odd": "<invalid>"}, "gps": {"lat": 60.1}},
    "alerts": [{"name": "A", "audience": ["customer", "service"]}, {"name": "B", "audience": []}, "not-an-object"],
    "warranty": {
        "active": [
            {"limit": 80000, "unit": "KM"},
            {"limit": 50000, "unit": "MI"},
            {"limit": 1000, "unit": "  "},
            {"limit": 5, "unit": 7},
        ]
    },
    "sessions": [{"fees": [{"total": 1.5, "currency": "EUR"}, {"total": 2}]}, {"fees": [{"total": 3}]}],
    "scalar": 5,
}

MAP = {
    "car.state.level": field("car.level", FieldType.percent, unit="%"),
    "car.state.nothing": field("car.nothing"),
    "car.state.missing": field("car.missing"),
    "car.gps.lat": field("car.lat", sensitive=True),
    "alerts[].name": field("alert.name", FieldType.text),
    "alerts[].audience[]": field("alert.audience", FieldType.enum),
    "warranty.active[].limit": field("warranty.limit", FieldType.distance, unit="mi", unit_from="unit"),
    "sessions[].fees[].total": field("fee.total", FieldType.money, unit_from="currency"),
    "scalar.deeper": field("scalar.deeper"),
    "car[].state": field("car.not_a_list"),
}


class TestExtract:
    def test_walks_dotted_paths_and_keeps_present_nulls(self) -> None:
        found = {value.path: value.value for value in extract(RAW, MAP)}

        assert found["car.state.level"] == 68
        assert "car.state.nothing" in found
        assert found["car.state.nothing"] is None
        assert "car.state.missing" not in found

    def test_steps_into_every_list_item_with_concrete_paths(self) -> None:
        values = extract(RAW, MAP)
        names = [(value.path, value.value) for value in values if value.field.key == "alert.name"]
        audience = [(value.path, value.value) for value in values if value.field.key == "alert.audience"]
        totals = [(value.path, value.value) for value in values if value.field.key == "fee.total"]

        assert names == [("alerts[0].name", "A"), ("alerts[1].name", "B")]
        assert audience == [("alerts[0].audience[0]", "customer"), ("alerts[0].audience[1]", "service")]
        assert totals == [
            ("sessions[0].fees[0].total", 1.5),
            ("sessions[0].fees[1].total", 2),
            ("sessions[1].fees[0].total", 3),
        ]

    def test_paths_through_scalars_or_wrong_shapes_find_nothing(self) -> None:
        keys = {value.field.key for value in extract(RAW, MAP)}

        assert "scalar.deeper" not in keys
        assert "car.not_a_list" not in keys
        assert extract({"alerts": {"name": "not a list"}}, MAP) == []
        assert extract({}, MAP) == []

    def test_unit_comes_from_the_sibling_when_it_names_one(self) -> None:
        units = [(value.value, value.unit) for value in extract(RAW, MAP) if value.field.key == "warranty.limit"]
        currencies = [value.unit for value in extract(RAW, MAP) if value.field.key == "fee.total"]

        # A blank or non-text sibling falls back to the field's own source unit.
        assert units == [(80000, "KM"), (50000, "MI"), (1000, "mi"), (5, "mi")]
        assert currencies == ["EUR", None, None]

    def test_sensitive_fields_only_when_asked_for(self) -> None:
        assert not [value for value in extract(RAW, MAP) if value.field.sensitive]

        sensitive = [value for value in extract(RAW, MAP, include_sensitive=True) if value.field.sensitive]

        assert [(value.path, value.value) for value in sensitive] == [("car.gps.lat", 60.1)]

    def test_captured_at_is_asked_per_map_path(self) -> None:
        asked: list[str] = []
        moment = datetime(2026, 3, 5, 12, tzinfo=UTC)

        def captured_at(path: str) -> datetime | None:
            asked.append(path)
            return moment if path.startswith("car.") else None

        values = extract(RAW, MAP, captured_at)

        assert {value.captured_at for value in values if value.path.startswith("car.")} == {moment}
        assert {value.captured_at for value in values if value.path.startswith("alerts")} == {None}
        assert "alerts[].name" in asked
        assert "car.gps.lat" not in asked  # sensitive and skipped before asking

    def test_without_captured_at_values_have_none(self) -> None:
        assert {value.captured_at for value in extract(RAW, MAP)} == {None}

    def test_results_follow_the_order_of_the_map(self) -> None:
        order = [value.field.key for value in extract(RAW, MAP)]

        assert order.index("car.level") < order.index("alert.name") < order.index("fee.total")

    def test_a_bad_path_is_refused(self) -> None:
        with pytest.raises(ValueError, match="bad field path"):
            extract(RAW, {"car..state": field()})


ENUM_TABLES: dict[str, dict[str, str]] = {
    "seat.heater": {"0": "enum.level.off", "3": "enum.level.high", "Charging": "enum.state.charging", "": "enum.x"},
    "door.front": {"0": "enum.opening.closed", "1": "enum.opening.open", "Charging": "enum.state.charging"},
    "light.port": {"Off": "enum.port.off"},
    "mode.climate": {"Off": "enum.climate.off"},
}


class TestEnumTables:
    def test_every_value_is_keyed_by_its_field(self) -> None:
        flat = flatten_enums(ENUM_TABLES)

        assert flat[enum_key("seat.heater", "0")] == "enum.level.off"
        assert flat[enum_key("door.front", "0")] == "enum.opening.closed"
        assert flat[enum_key("seat.heater", "")] == "enum.x"
        assert flat[enum_key("light.port", "Off")] == "enum.port.off"

    def test_words_with_one_meaning_are_also_keyed_by_themselves(self) -> None:
        flat = flatten_enums(ENUM_TABLES)

        assert flat["Charging"] == "enum.state.charging"
        # Codes, blanks and words that differ by field never stand alone.
        assert not {"0", "1", "3", "", "Off"} & set(flat)

    def test_lookup_tries_the_field_first(self) -> None:
        flat = flatten_enums(ENUM_TABLES)
        heater = field("seat.heater", FieldType.enum)
        door = field("door.front", FieldType.enum)
        other = field("other.field", FieldType.enum)

        assert enum_message(flat, heater, "0") == "enum.level.off"
        assert enum_message(flat, door, "0") == "enum.opening.closed"
        assert enum_message(flat, other, "Charging") == "enum.state.charging"
        assert enum_message(flat, other, "0") is None
        assert enum_message(flat, door, "3") is None
        assert enum_message(flat, other, "") is None
        assert enum_message(flat, heater, "Exploding") is None


class TestLeafPaths:
    def test_names_every_leaf_as_a_map_path(self) -> None:
        payload = {
            "a": {"b": 1, "c": None, "empty": {}},
            "items": [{"x": 1}, {"y": {"z": 2}}],
            "tags": ["one", "two"],
            "none": [],
        }

        assert leaf_paths(payload) == {
            "a.b",
            "a.c",
            "a.empty",
            "items[].x",
            "items[].y.z",
            "tags[]",
            "none[]",
        }

    def test_a_bare_list_at_the_root(self) -> None:
        assert leaf_paths([{"name": "A", "audience": ["x"]}], "alerts") == {"alerts[].name", "alerts[].audience[]"}
