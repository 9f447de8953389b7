"""Masking of personal data and secrets before anything is logged."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from carpulse.kit.privacy import REDACTED, mask_email, mask_mapping, mask_text, mask_value, mask_vin

VIN = "5YJ3E1EA7KF000316"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUgRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


class TestMaskVin:
    def test_keeps_only_the_last_six_characters(self) -> None:
        assert mask_vin(VIN) == "***000316"

    @pytest.mark.parametrize("short", ["", "A", "123456"])
    def test_short_values_are_fully_hidden(self, short: str) -> None:
        assert mask_vin(short) == "***"


class TestMaskEmail:
    def test_keeps_first_letter_and_domain(self) -> None:
        assert mask_email("jane.doe@example.com") == "j***@example.com"

    def test_single_letter_local_part(self) -> None:
        assert mask_email("j@example.com") == "j***@example.com"

    def test_value_without_at_sign_is_redacted(self) -> None:
        assert mask_email("not-an-address") == REDACTED


class TestMaskTextEmails:
    def test_email_in_a_sentence(self) -> None:
        assert mask_text("sent to jane.doe@example.com today") == "sent to j***@example.com today"

    def test_every_email_is_masked(self) -> None:
        masked = mask_text("from a.b@x.io to c+tag@mail.example.org, cc d_e@y.co.uk")

        assert masked == "from a***@x.io to c***@mail.example.org, cc d***@y.co.uk"

    def test_email_inside_json_ish_text(self) -> None:
        assert mask_text('{"email":"jane@example.com"}') == '{"email":"j***@example.com"}'


class TestMaskTextTokens:
    def test_jwt_is_redacted(self) -> None:
        masked = mask_text(f"token {JWT} rejected")

        assert masked == f"token {REDACTED} rejected"

    @pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "Basic"])
    def test_authorization_credentials_are_redacted(self, scheme: str) -> None:
        masked = mask_text(f"Authorization: {scheme} abc.DEF-123_~+/=")

        assert masked == f"Authorization: {scheme} {REDACTED}"

    def test_bearer_jwt_is_redacted(self) -> None:
        masked = mask_text(f"Authorization: Bearer {JWT}")

        assert "eyJ" not in masked
        assert REDACTED in masked


class TestMaskTextSecretQueryParameters:
    @pytest.mark.parametrize(
        "name",
        [
            "code",
            "token",
            "access_token",
            "refresh_token",
            "signature",
            "sig",
            "password",
            "secret",
            "client_secret",
            "key",
            "CODE",
            "X-Amz-Signature",
        ],
    )
    def test_secret_parameter_value_is_redacted(self, name: str) -> None:
        masked = mask_text(f"GET https://api.example/cb?state=s1&{name}=s3cr3tV4lue&page=2")

        assert "s3cr3tV4lue" not in masked
        assert f"{name}={REDACTED}" in masked
        assert "state=s1" in masked
        assert "page=2" in masked

    def test_signed_download_link_loses_its_signature(self) -> None:
        masked = mask_text("/files/r.pdf?expires=1767225600&signature=" + "ab" * 32 + "&filename=R.pdf")

        assert masked == f"/files/r.pdf?expires=1767225600&signature={REDACTED}&filename=R.pdf"

    @pytest.mark.parametrize("name", ["id_token", "api_key", "apikey", "auth_code", "session_token"])
    def test_prefixed_secret_parameter_value_is_redacted(self, name: str) -> None:
        masked = mask_text(f"https://api.example/cb?{name}=s3cr3tV4lue&page=2")

        assert "s3cr3tV4lue" not in masked
        assert "page=2" in masked

    @pytest.mark.parametrize("text", ["zipcode=12345", "page=2&limit=50", "state=abc"])
    def test_ordinary_parameters_are_kept(self, text: str) -> None:
        assert mask_text(text) == text


class TestMaskTextVins:
    def test_vin_keeps_its_last_six(self) -> None:
        assert mask_text(f"vehicle {VIN} connected") == "vehicle ***000316 connected"

    def test_vin_in_a_path(self) -> None:
        assert mask_text(f"/vehicles/{VIN}/battery") == "/vehicles/***000316/battery"

    @pytest.mark.parametrize(
        "text",
        [
            "order 12345678901234567",  # all digits: an order or account number, not a VIN
            "ABCDEFGHJKLMNPRST",  # all letters
            f"X{VIN}",  # part of a longer token
            f"{VIN}9",
            "5YJ3E1EA7KF00031",  # 16 characters
        ],
    )
    def test_things_that_are_not_vins_are_kept(self, text: str) -> None:
        assert mask_text(text) == text

    def test_plain_text_is_unchanged(self) -> None:
        text = "Battery at 81 %, range 312 km; next service in 2 weeks."

        assert mask_text(text) == text


# Local parts per RFC 5322 (atext and dots), as hypothesis' `emails()` draws them.
_SEPARATORS = st.sampled_from([" ", "\n", "\t", ", ", "; ", " (", ") ", " <", "> ", ': "', '" '])
_TEXT = st.text(max_size=40)


class TestEmailsNeverSurvive:
    @given(prefix=_TEXT, before=_SEPARATORS, address=st.emails(), after=_SEPARATORS, suffix=_TEXT)
    @example(prefix="", before=" ", address="jane.doe@example.com", after=" ", suffix="")
    def test_the_full_address_is_gone(self, prefix: str, before: str, address: str, after: str, suffix: str) -> None:
        # A local part of mask characters only ("*@a.io") reads the same masked: nothing of it is left to hide.
        assume(address.split("@")[0].strip("*"))
        masked = mask_text(prefix + before + address + after + suffix)

        assert address not in masked


_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_DIGITS = "0123456789"


@st.composite
def vins(draw: st.DrawFn) -> str:
    """17 characters of the VIN alphabet; a manufacturer code with a letter, a serial with a digit."""
    wmi = draw(st.text(_VIN_CHARS, min_size=2, max_size=2)) + draw(st.sampled_from(_LETTERS))
    body = draw(st.text(_VIN_CHARS, min_size=13, max_size=13)) + draw(st.sampled_from(_DIGITS))
    return wmi + body


class TestVinsNeverSurvive:
    @given(prefix=_TEXT, before=_SEPARATORS, vin=vins(), after=_SEPARATORS, suffix=_TEXT)
    @example(prefix="", before=" ", vin=VIN, after=" ", suffix="")
    def test_only_the_last_six_characters_remain(
        self, prefix: str, before: str, vin: str, after: str, suffix: str
    ) -> None:
        masked = mask_text(prefix + before + vin + after + suffix)

        assert vin not in masked
        if vin[:11] not in prefix + suffix:
            assert vin[:11] not in masked

    @given(vin=vins())
    def test_a_vin_alone_becomes_stars_and_its_last_six(self, vin: str) -> None:
        assert mask_text(vin) == "***" + vin[-6:]


class TestMaskValue:
    @pytest.mark.parametrize(
        "key",
        [
            "password",
            "new_password",
            "token",
            "access_token",
            "client_secret",
            "Authorization",
            "cookie",
            "set-cookie",
            "api_key",
            "ApiKey",
            "signature",
            "credentials",
            "passwd",
        ],
    )
    def test_secret_looking_keys_are_redacted(self, key: str) -> None:
        assert mask_value(key, "hunter2-plain-secret") == REDACTED

    def test_secret_key_redacts_a_whole_structure(self) -> None:
        assert mask_value("credentials", {"user": "jane", "pin": "1234"}) == REDACTED
        assert mask_value("tokens", ["t1", "t2"]) == REDACTED

    @pytest.mark.parametrize("key", ["vin", "VIN", "vehicle_vin"])
    def test_vin_keys_keep_the_last_six(self, key: str) -> None:
        assert mask_value(key, VIN) == "***000316"

    @pytest.mark.parametrize("key", ["email", "Email", "user_email"])
    def test_email_keys_keep_first_letter_and_domain(self, key: str) -> None:
        assert mask_value(key, "jane.doe@example.com") == "j***@example.com"

    def test_other_strings_are_masked_as_text(self) -> None:
        assert mask_value("message", f"mail jane@example.com about {VIN}") == "mail j***@example.com about ***000316"

    @pytest.mark.parametrize("value", [None, True, False, 0, 42, 3.5])
    def test_scalars_pass_through(self, value: Any) -> None:
        assert mask_value("count", value) is value

    def test_other_objects_are_masked_as_their_text(self) -> None:
        class Thing:
            def __str__(self) -> str:
                return "owner jane@example.com"

        assert mask_value("thing", Thing()) == "owner j***@example.com"


class TestMaskMapping:
    def test_event_dictionary_is_masked_field_by_field(self) -> None:
        event = {
            "event": "auth.login_failed for jane@example.com",
            "username": "jane",
            "password": "hunter2",
            "vin": VIN,
            "attempts": 3,
            "request_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        }

        assert mask_mapping(event) == {
            "event": "auth.login_failed for j***@example.com",
            "username": "jane",
            "password": REDACTED,
            "vin": "***000316",
            "attempts": 3,
            "request_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        }

    def test_nested_dictionaries_are_masked(self) -> None:
        event = {"request": {"headers": {"Authorization": "Bearer abc", "Accept": "application/json"}}}

        assert mask_mapping(event) == {
            "request": {"headers": {"Authorization": REDACTED, "Accept": "application/json"}}
        }

    def test_lists_and_tuples_are_masked_item_by_item(self) -> None:
        event = {
            "recipients": ["jane@example.com", "joe@example.org"],
            "vehicles": ({"vin": VIN, "api_token": "t"},),
        }

        assert mask_mapping(event) == {
            "recipients": ["j***@example.com", "j***@example.org"],
            "vehicles": [{"vin": "***000316", "api_token": REDACTED}],
        }

    def test_the_input_is_not_modified(self) -> None:
        event = {"password": "hunter2", "nested": {"token": "t"}}

        mask_mapping(event)

        assert event == {"password": "hunter2", "nested": {"token": "t"}}

    def test_non_string_keys_are_handled(self) -> None:
        assert mask_mapping({"by_id": {1: "jane@example.com"}}) == {"by_id": {1: "j***@example.com"}}

    def test_header_style_api_key_is_redacted(self) -> None:
        masked = mask_mapping({"headers": {"X-API-Key": "cp_live_0123456789abcdef", "x-api-key": "cp_live_x"}})

        assert masked == {"headers": {"X-API-Key": REDACTED, "x-api-key": REDACTED}}


class TestCapabilityIdsInPaths:
    def test_long_ids_in_paths_keep_only_a_prefix(self) -> None:
        session = "iTPgKttojd6vzx_iw3iGLVvG15ThQOigvyCB_-KxrLU"
        masked = mask_text(f"/api/v1/tesla/session/{session}/state")
        assert session not in masked
        assert masked == "/api/v1/tesla/session/iTPgKt…/state"

    def test_short_segments_and_request_ids_are_left_alone(self) -> None:
        assert mask_text("/api/v1/auth/me") == "/api/v1/auth/me"
        assert mask_text("0b7e7a6e4c2b4d6f9a1e2f3a4b5c6d7e") == "0b7e7a6e4c2b4d6f9a1e2f3a4b5c6d7e"
