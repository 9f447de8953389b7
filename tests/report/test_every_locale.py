"""Every package in every locale, for the sandbox's cars: no English of ours, no raw Tesla codes, one glossary entry
per term.

Data-driven: the English sentences come from the English catalogue and Tesla's English from the Tesla fake's own
tables, so a sentence added to either is checked without touching this file. Text inside `translate="no"` (a proper
name, a cited title) is not the reader's language by design and is left out.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from carpulse.kit.clock import FrozenClock
from carpulse.kit.documents import render_pdf
from carpulse.kit.i18n import LOCALES, catalogue
from carpulse.provider.base import VehicleSnapshot
from carpulse.provider.tesla.adapter import TeslaProvider
from carpulse.provider.tesla.brand import INFO as TESLA
from carpulse.report.document import DocumentInputs, render_report_html
from carpulse.report.view import build_view
from fakes.tesla_fleet.catalog import ALERTS, MODELS
from tests.provider.tesla.conftest import TeslaRig, tesla  # noqa: F401 - the fixture

# Bulk renders each car as a Pro report (checked below), so two packages cover the three.
PACKAGES = ("basic", "pro")
SCOPES = ["vehicle_device_data", "vehicle_location", "vehicle_charging_cmds"]
# Accounts whose cars answer (sleepy's do not; garage has none); together they have alerts, every model, trims with
# and without a letter, three regions.
ACCOUNTS = ("solo", "family", "us", "charger", "china", "service", "driver")
# A run of this many words of an English message is an English sentence, not a shared word or a name.
MIN_WORDS = 3

_PLACEHOLDER = re.compile(r"%\(\w+\)s")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Tesla's internal alert codes (`CP_a079_chargeCableUnlatched`, `BMS_w035_Low_SOC`).
ALERT_CODE = re.compile(r"\b[A-Z][A-Z0-9]+_[a-z]\d{3}_\w+")
_TRIMS = sorted({trim.badging for model in MODELS.values() for trim in model.trims}, key=len, reverse=True)
# A trim badge with a letter (`p74d`, `plaid`, `awd`) as Tesla sends it, lower case; a numeric badge (`50`, `74`)
# only where it stands as the trim, after the model's name.
LETTER_TRIM = re.compile(rf"(?<![\w-])(?:{'|'.join(t for t in _TRIMS if not t.isdigit())})(?![\w-])")
NUMERIC_TRIM = re.compile(
    rf"(?:{'|'.join(re.escape(m) for m in MODELS)})\W+(?:{'|'.join(t for t in _TRIMS if t.isdigit())})(?![\w,.])"
)


class _Text(HTMLParser):
    """The text a reader sees, without style, script and `translate="no"` elements; glossary terms apart."""

    VOID = frozenset({"br", "img", "meta", "link", "hr", "input", "col", "area", "base", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.terms: list[str] = []
        self._stack: list[tuple[str, bool]] = []
        self._term: list[str] | None = None
        self._in_glossary = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            self.parts.append("\n")
            return
        values = dict(attrs)
        hidden = tag in ("style", "script", "title") or values.get("translate") == "no"
        self._stack.append((tag, hidden))
        if tag == "dl" and "glossary" in (values.get("class") or "").split():
            self._in_glossary += 1
        if tag == "dt" and self._in_glossary:
            self._term = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        while self._stack:
            name, _ = self._stack.pop()
            if name == "dl" and self._in_glossary:
                self._in_glossary -= 1
            if name == "dt" and self._term is not None:
                self.terms.append(" ".join("".join(self._term).split()))
                self._term = None
            if name == tag:
                break
        self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if any(hidden for _, hidden in self._stack):
            return
        self.parts.append(data)
        if self._term is not None:
            self._term.append(data)

    @property
    def text(self) -> str:
        return _normal("".join(self.parts))


def _normal(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def _fragments(text: str) -> list[str]:
    """The literal runs of a message between its placeholders, with at least `MIN_WORDS` words."""
    runs = _PLACEHOLDER.split(text.replace("%%", "%"))
    found = []
    for run in runs:
        for sentence in re.split(r"[.;:!?()·]\s*", run):
            sentence = _normal(sentence.strip(" ,–-"))
            if len(_WORD.findall(sentence)) >= MIN_WORDS:
                found.append(sentence)
    return found


def _texts(locale: str) -> list[str]:
    texts = []
    for message in catalogue(locale):
        if not message.id:
            continue
        value = message.string
        texts.extend(str(item) for item in (value if isinstance(value, list | tuple) else (value,)) if item)
    return texts


@cache
def english_sentences(locale: str) -> tuple[str, ...]:
    """English runs of our catalogue (and Tesla's English alert texts) that must not appear in `locale`.

    A run the locale's own catalogue keeps verbatim (a proper name such as "Tesla Fleet API") is allowed."""
    own = "\n".join(_normal(text) for text in _texts(locale))
    english = [*_texts("en"), *(alert.user_text for alert in ALERTS if alert.user_text)]
    runs = {run for text in english for run in _fragments(text)}
    return tuple(sorted(run for run in runs if run not in own))


@cache
def message_id() -> re.Pattern[str]:
    """A catalogue id left in a document instead of its text (`battery.source.rating`)."""
    prefixes = sorted({str(message.id).split(".")[0] for message in catalogue("en") if message.id})
    return re.compile(rf"(?<![\w.@/])(?:{'|'.join(map(re.escape, prefixes))})\.[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*")


def _contains(text: str, run: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(run)}(?!\w)", text) is not None


def problems(text: str, terms: list[str], locale: str) -> list[str]:
    found: list[str] = []
    if locale != "en":
        found += [f"English: {run!r}" for run in english_sentences(locale) if _contains(text, run)]
    found += [f"message id: {key!r}" for key in sorted(set(message_id().findall(text)))]
    found += [f"raw alert code: {code!r}" for code in sorted(set(ALERT_CODE.findall(text)))]
    found += [f"raw trim code: {code!r}" for code in sorted(set(LETTER_TRIM.findall(text)))]
    found += [f"raw trim code: {code!r}" for code in sorted(set(NUMERIC_TRIM.findall(text)))]
    found += [f"glossary term twice: {term!r}" for term, n in Counter(t.casefold() for t in terms).items() if n > 1]
    return found


def read_html(html: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.text, parser.terms


@dataclass(frozen=True)
class Car:
    name: str
    snapshot: VehicleSnapshot
    read_at: datetime

    def inputs(self, locale: str, package: str) -> DocumentInputs:
        # Generated just after Tesla answered, so the live reading counts towards the battery estimate.
        return DocumentInputs(
            snapshot_data=self.snapshot.model_dump(mode="json"),
            package=package,
            locale=locale,
            generated_at=self.read_at + timedelta(minutes=1),
            reference="REF123",
            brand=TESLA,
        )

    def render(self, locale: str, package: str) -> str:
        return render_report_html(self.inputs(locale, package))


async def cars(rig: TeslaRig, accounts: tuple[str, ...] = ACCOUNTS) -> list[Car]:
    """Every car of the accounts, acquired as the report pipeline acquires them."""
    found = []
    for account in accounts:
        fleet, _ = await rig.connect(account)
        read_at = rig.fake.clock()
        provider = TeslaProvider(fleet, clock=FrozenClock(read_at), scopes=SCOPES)
        for index, vehicle in enumerate(rig.fake.accounts[account].vehicles):
            snapshot = await provider.acquire(vehicle.vin, include_history=True)
            found.append(Car(f"{account}[{index}]", snapshot, read_at))
    return found


class TestEveryLocale:
    @pytest.mark.parametrize("locale", LOCALES)
    async def test_html_has_no_english_of_ours_no_raw_codes_and_one_glossary_entry_per_term(
        self,
        tesla: TeslaRig,  # noqa: F811 - the fixture
        locale: str,
    ) -> None:
        failures: list[str] = []
        alerts = estimates = 0
        for car in await cars(tesla):
            for package in PACKAGES:
                html = car.render(locale, package)
                text, terms = read_html(html)
                failures += [f"{car.name} {package}: {problem}" for problem in problems(text, terms, locale)]
            alerts += len(car.snapshot.alerts.value) if car.snapshot.alerts else 0
            battery = build_view(car.inputs(locale, "pro")).battery
            estimates += battery is not None and battery.estimated and bool(battery.flags)

        # The renders had something to say: alerts, and battery estimates with their caveats (flags).
        assert alerts > 0
        assert estimates > 0
        assert not failures, "\n".join(failures)

    async def test_bulk_renders_each_car_as_pro(self, tesla: TeslaRig) -> None:  # noqa: F811 - the fixture
        (car,) = await cars(tesla, ("solo",))

        assert car.render("fi", "bulk") == car.render("fi", "pro")

    # The PDF is the HTML above laid out by WeasyPrint, and slow to make: the short Basic report in every locale,
    # the full Pro report in one.
    @pytest.mark.parametrize(
        ("locale", "package"), [(locale, "pro" if locale == "fi" else "basic") for locale in LOCALES]
    )
    async def test_pdf_has_no_english_of_ours_and_no_raw_codes(
        self,
        tesla: TeslaRig,  # noqa: F811 - the fixture
        locale: str,
        package: str,
    ) -> None:
        (car,) = await cars(tesla, ("solo",))
        pdf = PdfReader(io.BytesIO(render_pdf(car.render(locale, package))))
        text = _normal(" ".join(page.extract_text() or "" for page in pdf.pages))

        assert "Car Pulse" in text  # the text layer was read
        found = problems(text, [], locale)
        assert not found, "\n".join(found)


class TestTheDetectors:
    """The checks above would see what they look for."""

    def test_an_english_sentence_of_ours_is_found(self) -> None:
        sentence = english_sentences("fi")[0]

        assert problems(f"Yhteenveto {sentence} loppu", [], "fi") == [f"English: {sentence!r}"]

    def test_codes_and_duplicates_are_found(self) -> None:
        text = "CP_a079_chargeCableUnlatched · Model 3 · 50 · 2021 · p74d"

        assert problems(text, ["Nimellinen toimintamatka", "nimellinen toimintamatka"], "en") == [
            "raw alert code: 'CP_a079_chargeCableUnlatched'",
            "raw trim code: 'p74d'",
            "raw trim code: 'Model 3 · 50'",
            "glossary term twice: 'nimellinen toimintamatka'",
        ]

    def test_translate_no_is_left_out(self) -> None:
        text, terms = read_html(
            '<p>Yhteenveto <cite translate="no">Car and Driver</cite></p><dl class="glossary">'
            "<dt>A</dt><dd>x</dd><dt>A</dt></dl>"
        )

        assert text == "Yhteenveto A x A"
        assert terms == ["A", "A"]


class TestUnknownCodes:
    """A code missing from our tables is shown by a name made from it, with the code, marked as not translated."""

    async def test_an_unknown_alert_trim_and_warranty_are_humanised_and_marked(
        self,
        tesla: TeslaRig,  # noqa: F811 - the fixture
    ) -> None:
        (car,) = await cars(tesla, ("solo",))
        data = car.inputs("de", "pro").snapshot_data
        data["identity"]["trim"] = "p90d"
        data["alerts"]["value"][0] |= {"name": "GTW_w999_mysteryThingHappened", "user_text": "Something happened"}
        data["warranties"]["value"][0] |= {"kind": "LIFETIME_WARRANTY", "display_name": "Lifetime Warranty"}
        inputs = DocumentInputs(data, "pro", "de", car.read_at + timedelta(minutes=1), "REF123", brand=TESLA)

        view = build_view(inputs)

        assert view.alerts.rows[0][1:] == [
            "Mystery thing happened (Tesla-Code GTW_w999_mysteryThingHappened, nicht übersetzt)",
            "Something happened (Teslas Wortlaut, nicht übersetzt)",
        ]
        assert "P90d (Tesla-Code p90d, nicht übersetzt)" in view.model_line
        assert view.warranties.rows[0][0] == "Lifetime Warranty (Tesla-Code LIFETIME_WARRANTY, nicht übersetzt)"

    async def test_a_known_alert_is_named_in_the_readers_language(
        self,
        tesla: TeslaRig,  # noqa: F811 - the fixture
    ) -> None:
        (car,) = await cars(tesla, ("solo",))
        data = car.inputs("fi", "pro").snapshot_data
        data["alerts"]["value"][0] |= {"name": "CP_a079_chargeCableUnlatched", "user_text": "Charge cable unlatched"}
        inputs = DocumentInputs(data, "pro", "fi", car.read_at + timedelta(minutes=1), "REF123", brand=TESLA)

        assert build_view(inputs).alerts.rows[0][1] == "Latauskaapeli ei lukittunut"
