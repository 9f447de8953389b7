"""zone_at: the IANA zone of a trip's end, UTC where no land zone applies, never an exception."""

from __future__ import annotations

import math

import pytest

from carpulse.geo.zone import zone_at


@pytest.mark.parametrize(
    ("lat", "lon", "zone"),
    [
        (60.1699, 24.9384, "Europe/Helsinki"),
        (60.1867, 24.8300, "Europe/Helsinki"),  # Espoo
        (61.4978, 23.7610, "Europe/Helsinki"),  # Tampere
        (52.5200, 13.4050, "Europe/Berlin"),
        (52.3676, 4.9041, "Europe/Amsterdam"),
        (59.4370, 24.7536, "Europe/Tallinn"),
        (60.1540, 24.9560, "Europe/Helsinki"),  # the South Harbour: territorial water counts as land
    ],
)
def test_the_zone_of_a_place(lat: float, lon: float, zone: str) -> None:
    assert zone_at(lat, lon) == zone


def test_at_sea_it_is_utc() -> None:
    assert zone_at(45.0, -30.0) == "UTC"  # mid-Atlantic (timezonefinder's own answer: Etc/GMT+2)


@pytest.mark.parametrize(("lat", "lon"), [(math.nan, 24.9), (60.0, math.inf), (91.0, 0.0), (0.0, -181.0)])
def test_nonsense_is_utc_not_an_error(lat: float, lon: float) -> None:
    assert zone_at(lat, lon) == "UTC"
