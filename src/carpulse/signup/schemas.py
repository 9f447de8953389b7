from __future__ import annotations

from typing import Annotated, Literal

import pycountry
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, ValidationInfo, field_validator
from stdnum.eu import vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

# Length over composition rules (NIST SP 800-63B §3.1.1.2); the upper bound caps the cost of hashing.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

# The VAT prefix of each country stdnum knows as an EU VAT area: Greece uses EL, Northern Ireland (GB) XI.
VAT_PREFIXES = {"GR": "EL", "GB": "XI"}
VAT_COUNTRIES = {"GB" if state == "xi" else state.upper() for state in vat.MEMBER_STATES}

CompanyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def vat_prefix(country: str) -> str:
    return VAT_PREFIXES.get(country, country)


def _country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha() or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (FI, DE, GR, US, ...)")
    return code


def _vat_number(value: str, country: str | None) -> str:
    try:
        number = vat.compact(value).upper()
    except ValidationError as exc:
        raise ValueError("the VAT number has characters a VAT number never has") from exc
    if country is None:
        return number  # the country's own error is reported; nothing to match against
    if country not in VAT_COUNTRIES:
        raise ValueError(f"only EU VAT numbers are accepted, and {country} is not an EU VAT country")
    expected = vat_prefix(country)
    if number[:2] != expected:
        hint = " (Greece's VAT numbers start with EL, not GR)" if country == "GR" else ""
        raise ValueError(f"a VAT number of {country} starts with {expected}, this one with {number[:2]!r}{hint}")
    try:
        return str(vat.validate(number))
    except InvalidChecksum as exc:
        raise ValueError(f"{number} has a wrong check digit: it is not a valid {expected} VAT number") from exc
    except InvalidLength as exc:
        raise ValueError(f"{number} has the wrong length for a {expected} VAT number") from exc
    except (InvalidFormat, InvalidComponent) as exc:
        raise ValueError(f"{number} is not in the format of a {expected} VAT number") from exc
    except ValidationError as exc:
        raise ValueError(f"{number} is not a valid {expected} VAT number") from exc


class Registration(BaseModel):
    """A business signing up for the Data API."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "data@dealer.example",
                    "password": "long enough passphrase",
                    "company_name": "Dealer Oy",
                    "country": "FI",
                    "vat_number": "FI20774740",
                }
            ]
        },
    )

    email: EmailStr = Field(description="the login name (lower-cased) and where the confirmation link goes")
    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description=f"at least {MIN_PASSWORD_LENGTH} characters, not the e-mail address",
    )
    company_name: CompanyName
    country: str = Field(description="ISO 3166-1 alpha-2, e.g. FI", examples=["FI"])
    vat_number: str | None = Field(
        default=None,
        max_length=32,
        description="EU VAT number with its country prefix (EL for Greece, XI for Northern Ireland); "
        "format and check digit are verified",
    )

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str) -> str:
        return _country(value)

    @field_validator("password")
    @classmethod
    def _sensible_password(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise ValueError("the password must not be only spaces")
        if len(set(value)) < 4:
            raise ValueError("the password must use at least 4 different characters")
        email = info.data.get("email")
        if email and value.strip().lower() in {email.lower(), email.lower().partition("@")[0]}:
            raise ValueError("the password must not be the e-mail address or its name part")
        return value

    @field_validator("vat_number")
    @classmethod
    def _eu_vat_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        return _vat_number(value, info.data.get("country"))


class ConfirmationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=256, description="the `token` of the link in the mail")


class ResendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class SignupAccepted(BaseModel):
    """The same answer whether or not the address already has an account."""

    status: Literal["accepted"] = "accepted"
    detail: str = Field(
        default=(
            "If this address can receive mail, a message with the next step is on its way to it. "
            "A confirmation link works once, within its lifetime."
        )
    )


class Confirmation(BaseModel):
    status: Literal["confirmed", "already_confirmed"]
    detail: str
