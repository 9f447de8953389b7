"""VIN checks (each failure named) and decoding (what a VIN says, None for what it does not)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vininfo import Vin

from carpulse.vin.decoder import check, check_digit, decode, model_year
from carpulse.vin.errors import InvalidVin

TODAY = date(2026, 12, 1)
MODEL_3 = "5YJ3E7EB1KF123456"  # Fremont 2019 Model 3 dual motor, check digit 1


def failed(text: str) -> InvalidVin:
    with pytest.raises(InvalidVin) as info:
        check(text)
    return info.value


class TestCheck:
    def test_a_valid_vin_comes_back_unchanged(self) -> None:
        assert check(MODEL_3) == MODEL_3

    @pytest.mark.parametrize("text", ["", "5YJ3E7EB1KF12345", "5YJ3E7EB1KF1234567", "5YJ3E7EB1KF123456" * 5])
    def test_length(self, text: str) -> None:
        error = failed(text)
        assert error.extensions["check"] == "length"
        assert f"this has {len(text)}" in str(error.detail)
        assert InvalidVin.status == 422

    def test_lower_case_is_refused_not_folded(self) -> None:
        error = failed(MODEL_3.lower())
        assert error.extensions["check"] == "case"
        assert "VINs are upper case" in str(error.detail)

    @pytest.mark.parametrize(("letter", "position"), [("I", 12), ("O", 13), ("Q", 17)])
    def test_letters_i_o_q(self, letter: str, position: int) -> None:
        text = MODEL_3[: position - 1] + letter + MODEL_3[position:]
        error = failed(text)
        assert (error.extensions["check"], error.extensions["position"]) == ("letters", position)
        assert f"'{letter}'" in str(error.detail)

    @pytest.mark.parametrize(
        ("look_alike", "name", "looks_like"),
        [("\u0410", "CYRILLIC CAPITAL LETTER A", "A"), ("\uff16", "FULLWIDTH DIGIT SIX", "6")],
    )
    def test_unicode_look_alikes_are_named(self, look_alike: str, name: str, looks_like: str) -> None:
        error = failed(MODEL_3[:4] + look_alike + MODEL_3[5:])
        assert error.extensions == {"check": "characters", "position": 5, "character": name}
        assert name in str(error.detail)
        assert f"looks like '{looks_like}'" in str(error.detail)

    @pytest.mark.parametrize("text", [f" {MODEL_3[1:]}", f"{MODEL_3[:16]}-"])
    def test_punctuation_and_spaces(self, text: str) -> None:
        assert failed(text).extensions["check"] == "characters"


class TestCheckDigit:
    @pytest.mark.parametrize(
        "vin",
        [
            "5YJ3E7EB2KF123456",  # Tesla, US
            "XP7YGCEK0PB123456",  # Tesla built in Berlin: Tesla always computes it
            "LRW3E7FB0PC123456",  # Tesla, China
            "1V2GNPE80PC000001",  # VW built in the US
        ],
    )
    def test_enforced_in_north_america_china_and_for_tesla(self, vin: str) -> None:
        error = failed(vin)
        assert error.extensions["check"] == "check_digit"
        assert error.extensions["expected"] == check_digit(vin)
        assert "position 9" in str(error.detail)

    @pytest.mark.parametrize("vin", ["WVWZZZE1ZMP012345", "VF1AG000X66123456", "TMBJC7NY5NF000001"])
    def test_not_enforced_on_european_vins_that_carry_none(self, vin: str) -> None:
        assert check(vin) == vin
        decoded = decode(vin, today=TODAY)
        assert (decoded.check_digit_valid, decoded.check_digit_enforced) == (False, False)

    def test_a_right_digit_is_reported_valid_even_where_it_is_not_enforced(self) -> None:
        vin = "WVWZZZE14MP012345"
        assert vin[8] == check_digit(vin)
        assert decode(vin, today=TODAY).check_digit_valid

    @given(st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=17, max_size=17))
    def test_agrees_with_vininfo(self, text: str) -> None:
        vin = text[:8] + check_digit(text) + text[9:]
        assert Vin(vin).verify_checksum(check_year=False)


class TestModelYear:
    def test_the_30_year_cycle_takes_the_latest_year_not_past_next_year(self) -> None:
        assert model_year("K", first=1980, today=TODAY) == 2019  # not 1989
        assert model_year("V", first=1980, today=TODAY) == 2027  # next year's models are sold already
        assert model_year("W", first=1980, today=TODAY) == 1998  # 2028 is too far ahead
        assert model_year("6", first=1980, today=TODAY) == 2006

    def test_a_make_younger_than_the_earlier_year_gets_none(self) -> None:
        assert model_year("W", first=2008, today=TODAY) is None
        assert model_year("U", first=1980, today=TODAY) is None  # not a year code


class TestDecodeTesla:
    def test_positions_4_to_11(self) -> None:
        decoded = decode(MODEL_3, today=TODAY)
        assert (decoded.make, decoded.model, decoded.model_year) == ("Tesla", "Model 3", 2019)
        assert (decoded.body, decoded.drive, decoded.motor) == ("sedan, left-hand drive", "AWD", "dual")
        assert decoded.battery == "electric (lithium-ion)"
        assert decoded.chemistry_hint is None
        assert (decoded.plant_code, decoded.plant, decoded.country) == ("F", "Fremont, California", "United States")
        assert decoded.check_digit_valid
        assert decoded.check_digit_enforced

    def test_lfp_from_position_7_is_a_hint_marked_unconfirmed(self) -> None:
        decoded = decode("LRW3E7FA2PC123456", today=TODAY)
        assert (decoded.model, decoded.motor, decoded.chemistry_hint, decoded.plant) == (
            "Model 3",
            "single",
            "LFP",
            "Shanghai, China",
        )
        assert "chemistry_hint" in decoded.unconfirmed

    def test_unknown_codes_are_none(self) -> None:
        vin = "5YJZZ9Z" + "Z"
        vin = vin + check_digit(vin + "0" + "KZ123456") + "KZ123456"
        decoded = decode(vin, today=TODAY)
        assert decoded.make == "Tesla"
        assert (decoded.model, decoded.body, decoded.drive, decoded.motor, decoded.plant) == (None,) * 5


class TestDecodeOtherMakes:
    def test_vw_group_type_code_year_and_plant(self) -> None:
        decoded = decode("WVWZZZE1ZMP012345", today=TODAY)
        assert (decoded.make, decoded.model, decoded.model_year, decoded.plant) == (
            "Volkswagen",
            "ID.3",
            2021,
            "Zwickau, Germany",
        )
        assert decoded.drive is None
        assert decoded.body is None

    def test_renault_has_no_model_year_at_position_10(self) -> None:
        decoded = decode("VF1AG000X66123456", today=TODAY)
        assert (decoded.make, decoded.model, decoded.model_year) == ("Renault", "Zoe", None)

    def test_a_shared_code_names_its_candidates_not_one_model(self) -> None:
        decoded = decode("VF1RCB00677550782", today=TODAY)
        assert decoded.model is None
        assert decoded.model_candidates == ("Megane E-Tech", "Scenic E-Tech")
        assert "model" in decoded.unconfirmed

    def test_a_maker_we_do_not_carry_has_its_manufacturer_and_nothing_else(self) -> None:
        decoded = decode("JTDKW3D35M1000001", today=TODAY)
        assert (decoded.manufacturer, decoded.country) == ("Toyota", "Japan")
        assert (decoded.make, decoded.model, decoded.model_year) == (None, None, None)
