"""The report document, step by step: acquired data → view model → HTML → PDF, in every locale."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image
from pypdf import PdfReader

from carpulse.kit.clock import FrozenClock
from carpulse.kit.i18n import LOCALES, translate
from carpulse.provider.base import VehicleSnapshot
from carpulse.provider.tesla.adapter import TeslaProvider
from carpulse.provider.tesla.brand import INFO as TESLA
from carpulse.report.document import DocumentInputs, PhotoImage, render_document, render_report_html
from carpulse.report.view import build_view
from tests.provider.tesla.conftest import TeslaRig, tesla  # noqa: F401 - the fixture

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# A message id left in a document: a catalogue key instead of its text.
RAW_KEY = re.compile(r"\b(?:report|field|battery|format|enum|glossary|receipt)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*\b")


async def acquire(rig: TeslaRig, account: str = "solo", *, history: bool = True) -> VehicleSnapshot:
    fleet, _ = await rig.connect(account)
    scopes = ["vehicle_device_data", "vehicle_location", "vehicle_charging_cmds"]
    provider = TeslaProvider(fleet, clock=FrozenClock(NOW), scopes=scopes)
    vin = rig.fake.accounts[account].vehicles[0].vin
    return await provider.acquire(vin, include_history=history)


def inputs(snapshot: VehicleSnapshot, locale: str, package: str, **extra: object) -> DocumentInputs:
    return DocumentInputs(
        snapshot_data=snapshot.model_dump(mode="json"),
        package=package,
        locale=locale,
        generated_at=NOW,
        reference="REF123",
        brand=TESLA,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
async def snapshot(tesla: TeslaRig) -> VehicleSnapshot:  # noqa: F811 - the fixture above
    return await acquire(tesla)


class TestViewModel:
    async def test_basic_shows_the_summary_without_pro_sections(self, snapshot: VehicleSnapshot) -> None:
        view = build_view(inputs(snapshot, "fi", "basic"))

        assert view.vin == snapshot.identity.vin
        assert view.battery is None
        assert view.charging is None
        assert view.glossary == []
        labels = [row.label for row in view.summary]
        assert translate("fi", "report.summary.odometer") in labels
        # Finnish formats with a decimal comma and a no-break space before the unit.
        odometer = view.summary[0].value
        assert "km" in odometer
        assert "." not in odometer.replace("km", "")

    async def test_pro_adds_battery_charging_service_glossary(self, snapshot: VehicleSnapshot) -> None:
        view = build_view(inputs(snapshot, "en", "pro"))

        assert view.battery is not None
        assert view.charging is not None
        assert view.charging.sessions == len(snapshot.charging_history.value)  # type: ignore[union-attr]
        assert view.charging.chart is not None
        assert view.glossary
        assert len(view.sections) > len(build_view(inputs(snapshot, "en", "basic")).sections)

    async def test_currencies_are_never_summed_together(self, tesla: TeslaRig) -> None:  # noqa: F811
        snapshot = await acquire(tesla, "charger")
        view = build_view(inputs(snapshot, "en", "pro"))

        assert view.charging is not None
        currencies = [row[0] for row in view.charging.by_currency.rows]
        assert len(currencies) == len(set(currencies))
        for row in view.charging.by_month.rows:
            # Each currency appears at most once per month's cost cell.
            symbols = row[3].split(", ")
            assert len(symbols) == len(set(symbols))

    async def test_no_number_when_the_battery_data_cannot_support_one(self, snapshot: VehicleSnapshot) -> None:
        data = snapshot.model_dump(mode="json")
        data["battery_level"]["value"] = 8.0  # far too low to extrapolate from
        view = build_view(inputs(VehicleSnapshot.model_validate(data), "de", "pro"))

        assert view.battery is not None
        assert not view.battery.estimated
        assert view.battery.soh is None
        assert view.battery.reason

    async def test_every_summary_value_says_when_and_where(self, snapshot: VehicleSnapshot) -> None:
        view = build_view(inputs(snapshot, "sv", "pro"))

        for row in view.summary:
            assert row.read_at
            assert row.source == translate("sv", "report.source.tesla_fleet")

    async def test_gaps_are_stated(self, snapshot: VehicleSnapshot) -> None:
        data = snapshot.model_dump(mode="json") | {"gaps": {"service_data": "Tesla timed out"}, "service": None}
        view = build_view(inputs(VehicleSnapshot.model_validate(data), "en", "pro"))

        assert view.gaps == [translate("en", "report.gap", part=translate("en", "report.part.service_data"))]


class TestDocumentsInEveryLocale:
    @pytest.mark.parametrize("package", ["basic", "pro"])
    async def test_html_has_no_raw_keys(self, snapshot: VehicleSnapshot, package: str) -> None:
        for locale in LOCALES:
            html = render_report_html(inputs(snapshot, locale, package))

            assert RAW_KEY.findall(html) == [], locale
            assert snapshot.identity.vin in html
            assert f'lang="{"nb" if locale == "no" else locale}"' in html

    @pytest.mark.parametrize("package", ["basic", "pro"])
    @pytest.mark.parametrize("locale", ["en", "fi", "de"])
    async def test_pdf_text_has_the_vin_and_localized_labels(
        self, snapshot: VehicleSnapshot, locale: str, package: str
    ) -> None:
        _, pdf = render_document(inputs(snapshot, locale, package))
        text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)

        assert snapshot.identity.vin in text
        assert translate(locale, "report.section.summary") in text
        assert translate(locale, "report.summary.odometer") in text
        assert RAW_KEY.findall(text) == []
        if package == "pro":
            assert translate(locale, "battery.label.battery_health") in text
            assert translate(locale, "report.section.charging_history") in text

    async def test_photos_close_the_report(self, snapshot: VehicleSnapshot) -> None:
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 10, 10)).save(buffer, "JPEG")
        photo = PhotoImage("image/jpeg", buffer.getvalue())

        html = render_report_html(inputs(snapshot, "it", "basic", photos=[photo]))

        assert translate("it", "report.section.photos") in html
        assert html.index(photo.data_uri()) > html.index(translate("it", "report.section.alerts"))

    async def test_user_text_is_escaped(self, snapshot: VehicleSnapshot) -> None:
        html = render_report_html(inputs(snapshot, "en", "basic", display_name="<script>alert(1)</script>"))

        assert "<script>" not in html
        assert "&lt;script&gt;" in html
