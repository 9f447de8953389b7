"""The report's PDF holds its layout: nothing outside the page's content box, photos whole, in order, in rows
that break between pages, and no heading left alone at the foot of a page, in every locale."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from carpulse.kit.i18n import LOCALES
from carpulse.provider.base import VehicleSnapshot
from carpulse.report.document import PhotoImage, render_document
from carpulse.report.photo import DEFAULT_LIMITS
from tests.kit.page_box import Layout, heading_texts, page_box
from tests.provider.tesla.conftest import TeslaRig, tesla  # noqa: F401 - the fixture
from tests.report.test_document import acquire, inputs

# Ten photos of ten shapes (a session's limit): landscape, portrait, square, panorama, tall, 16:9 both ways.
PHOTO_SIZES = [
    (800, 600),
    (600, 800),
    (960, 540),
    (700, 700),
    (1200, 400),
    (540, 960),
    (900, 600),
    (600, 900),
    (1000, 750),
    (640, 480),
]
PHOTOS_PER_ROW = 2
# Set to a directory to keep each rendered page as a PNG to look at.
PAGE_IMAGES = os.environ.get("CARPULSE_TEST_PAGE_IMAGES")


def photos(count: int) -> list[PhotoImage]:
    images = []
    for index, size in enumerate(PHOTO_SIZES[:count]):
        buffer = io.BytesIO()
        Image.new("RGB", size, (25 * index, 110, 230 - 20 * index)).save(buffer, "JPEG", quality=60)
        images.append(PhotoImage("image/jpeg", buffer.getvalue()))
    return images


def footer(snapshot: VehicleSnapshot) -> re.Pattern[str]:
    """The report's running footer: VIN · reference on the left, page N / M on the right (read without spaces)."""
    return re.compile(rf"{re.escape(snapshot.identity.vin)}·REF123\d+/\d+")


@pytest.fixture
async def snapshot(tesla: TeslaRig) -> VehicleSnapshot:  # noqa: F811 - the fixture above
    return await acquire(tesla)


def render(
    snapshot: VehicleSnapshot, locale: str, package: str, photo_count: int, **extra: object
) -> tuple[str, Layout]:
    html, pdf = render_document(inputs(snapshot, locale, package, photos=photos(photo_count), **extra))
    layout = Layout.read(pdf)
    if PAGE_IMAGES:
        layout.save_images(pdf, Path(PAGE_IMAGES), f"report-{package}-{locale}-{photo_count}photos")
    return html, layout


def assert_on_the_page(html: str, layout: Layout, snapshot: VehicleSnapshot) -> None:
    box = page_box(html)
    assert layout.outside(box, footer(snapshot)) == []
    assert layout.headings_left_alone(box, heading_texts(html)) == []


def assert_photos_whole_in_rows(layout: Layout) -> None:
    """All ten photos, in order, each at its own aspect ratio, in rows that sit whole on one page."""
    placed = sorted(layout.images(), key=lambda item: (item[0], round(item[1]["top"]), item[1]["x0"]))
    # Every photo is there, once, in the order they were added.
    assert [tuple(image["srcsize"]) for _, image in placed] == PHOTO_SIZES
    for (width, height), (page, image) in zip(PHOTO_SIZES, placed, strict=True):
        shown = (image["x1"] - image["x0"]) / (image["bottom"] - image["top"])
        assert shown == pytest.approx(width / height, rel=0.01), (page, width, height)
    # A row of photos is never split across two pages: its photos share a page and a top edge.
    for start in range(0, len(placed), PHOTOS_PER_ROW):
        row = placed[start : start + PHOTOS_PER_ROW]
        assert len({page for page, _ in row}) == 1, [image["srcsize"] for _, image in row]
        assert max(image["top"] for _, image in row) - min(image["top"] for _, image in row) < 1


class TestReportPageBox:
    def test_the_photos_fill_the_session_limit(self) -> None:
        assert len(PHOTO_SIZES) == DEFAULT_LIMITS.max_photos_per_session
        assert len({width / height for width, height in PHOTO_SIZES}) > 5

    @pytest.mark.parametrize("locale", LOCALES)
    async def test_pro_with_ten_photos(self, snapshot: VehicleSnapshot, locale: str) -> None:
        html, layout = render(snapshot, locale, "pro", len(PHOTO_SIZES))

        assert_on_the_page(html, layout, snapshot)
        assert_photos_whole_in_rows(layout)

    async def test_pro_without_photos_and_a_long_car_name(self, snapshot: VehicleSnapshot) -> None:
        # The owner names the car in the Tesla app; a name with no space still wraps inside the page.
        html, layout = render(snapshot, "en", "pro", 0, display_name="W" * 80)

        assert_on_the_page(html, layout, snapshot)
        assert list(layout.images()) == []

    async def test_basic_with_ten_photos(self, snapshot: VehicleSnapshot) -> None:
        html, layout = render(snapshot, "fi", "basic", len(PHOTO_SIZES))

        assert_on_the_page(html, layout, snapshot)
        assert_photos_whole_in_rows(layout)
