"""Reading a rendered PDF's layout back with pdfplumber: what lies outside the page's content box.

The content box is the page minus the margins of the document's own `@page` rule, read from its HTML,
so a template that changes its margins is checked against the new ones.
"""

from __future__ import annotations

import html as html_module
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber

POINTS_PER_MM = 72 / 25.4
PAPER_MM = {"A4": (210.0, 297.0)}
# pdfplumber's coordinates are floats rounded by the PDF writer; a glyph flush with the margin may sit
# a fraction of a point past it.
TOLERANCE = 0.75

_PAGE_RULE = re.compile(r"@page\s*\{(?P<body>[^{}@]*)")
_LENGTH = re.compile(r"^(?P<value>\d+(?:\.\d+)?)mm$")
_HEADING = re.compile(r"<(h[1-6]|dt)\b[^>]*>(?P<text>.*?)</\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class PageBox:
    """A page and its content box, in PDF points from the top left (pdfplumber's `top`/`bottom`)."""

    width: float
    height: float
    top: float
    right: float
    bottom: float
    left: float

    @property
    def content(self) -> tuple[float, float, float, float]:
        return self.left, self.top, self.width - self.right, self.height - self.bottom

    def contains(self, x0: float, top: float, x1: float, bottom: float) -> bool:
        left, upper, right, lower = self.content
        return (
            x0 >= left - TOLERANCE
            and x1 <= right + TOLERANCE
            and top >= upper - TOLERANCE
            and bottom <= lower + TOLERANCE
        )

    def in_bottom_margin(self, x0: float, top: float, x1: float, bottom: float) -> bool:
        left, _, right, lower = self.content
        return x0 >= left - TOLERANCE and x1 <= right + TOLERANCE and top >= lower - TOLERANCE and bottom <= self.height


def page_box(html: str) -> PageBox:
    """The `@page` rule's size and margins (in mm, as our templates write them) as a `PageBox`."""
    rule = _PAGE_RULE.search(html)
    assert rule is not None, "the document has no @page rule"
    declarations = {
        name.strip(): value.strip()
        for name, _, value in (part.partition(":") for part in rule.group("body").split(";"))
        if value.strip()
    }
    width_mm, height_mm = PAPER_MM[declarations["size"]]
    margins = [_points(value) for value in declarations["margin"].split()]
    top, right, bottom, left = {
        1: lambda m: (m[0], m[0], m[0], m[0]),
        2: lambda m: (m[0], m[1], m[0], m[1]),
        3: lambda m: (m[0], m[1], m[2], m[1]),
        4: lambda m: tuple(m),
    }[len(margins)](margins)
    return PageBox(width_mm * POINTS_PER_MM, height_mm * POINTS_PER_MM, top, right, bottom, left)


def _points(length: str) -> float:
    match = _LENGTH.match(length)
    assert match is not None, f"margin {length!r} is not in mm"
    return float(match.group("value")) * POINTS_PER_MM


def heading_texts(html: str) -> set[str]:
    """The text of every heading (and glossary term) of the document, as a PDF line would read it."""
    return {_normalized(html_module.unescape(_TAG.sub("", match.group("text")))) for match in _HEADING.finditer(html)}


def _normalized(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Layout:
    """A rendered PDF read back: for each page its characters, text lines, images and drawings with their boxes."""

    pages: list[dict[str, Any]]

    @classmethod
    def read(cls, pdf: bytes) -> Layout:
        pages = []
        with pdfplumber.open(io.BytesIO(pdf)) as document:
            for page in document.pages:
                pages.append(
                    {
                        "number": page.page_number,
                        "size": (float(page.width), float(page.height)),
                        "chars": list(page.chars),
                        "lines": page.extract_text_lines(),
                        "images": list(page.images),
                        # Rules, borders, backgrounds, the gauge, the charging chart.
                        "drawings": [*page.rects, *page.lines, *page.curves],
                    }
                )
        return cls(pages)

    def images(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for page in self.pages:
            for image in page["images"]:
                yield page["number"], image

    def outside(self, box: PageBox, footer: re.Pattern[str]) -> list[str]:
        """Every glyph, image and drawing outside the content box; the page footer may sit in the bottom margin.

        Text in the bottom margin, within the content box's width, is the footer when all of it on that page,
        read left to right without spaces, matches `footer`; anything else outside the box is reported, one
        entry per text line or image.
        """
        problems: list[str] = []
        for page in self.pages:
            number = page["number"]
            width, height = page["size"]
            if abs(width - box.width) > TOLERANCE or abs(height - box.height) > TOLERANCE:
                problems.append(
                    f"page {number} is {width:.1f} × {height:.1f} pt, not {box.width:.1f} × {box.height:.1f}"
                )
            stray = [c for c in page["chars"] if c["text"].strip() and not box.contains(*_bbox(c))]
            in_footer = [c for c in stray if box.in_bottom_margin(*_bbox(c))]
            footer_text = "".join("".join(c["text"].split()) for c in sorted(in_footer, key=lambda c: c["x0"]))
            if in_footer and len(in_footer) == len(stray) and footer.fullmatch(footer_text):
                stray = []
            stray_keys = {_key(c) for c in stray}
            for line in page["lines"]:
                if any(_key(char) in stray_keys for char in line["chars"]):
                    problems.append(f"page {number}: text {line['text']!r} at {_where(line)}")
            for image in page["images"]:
                if not box.contains(*_bbox(image)):
                    problems.append(f"page {number}: image {image['srcsize']} at {_where(image)}")
            for drawing in page["drawings"]:
                if not box.contains(*_bbox(drawing)):
                    problems.append(f"page {number}: {drawing['object_type']} at {_where(drawing)}")
        return problems

    def headings_left_alone(self, box: PageBox, headings: set[str]) -> list[str]:
        """Pages whose last content (text line or image, above the footer) is a heading: it belongs on the next page."""
        lower = box.content[3] + TOLERANCE
        problems = []
        for page in self.pages[:-1]:
            items = [(line["bottom"], _normalized(line["text"])) for line in page["lines"] if line["bottom"] <= lower]
            items += [(image["bottom"], None) for image in page["images"] if image["bottom"] <= lower]
            if not items:
                problems.append(f"page {page['number']} is empty")
                continue
            _, last = max(items, key=lambda item: item[0])
            if last in headings:
                problems.append(f"page {page['number']} ends with the heading {last!r}")
        return problems

    def save_images(self, pdf: bytes, directory: Path, stem: str, resolution: int = 80) -> list[Path]:
        """Page images for a person to look at (pypdfium2 draws them; no poppler needed)."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        with pdfplumber.open(io.BytesIO(pdf)) as document:
            for page in document.pages:
                path = directory / f"{stem}-p{page.page_number}.png"
                page.to_image(resolution=resolution).save(path)
                paths.append(path)
        return paths


def _bbox(item: dict[str, Any]) -> tuple[float, float, float, float]:
    return float(item["x0"]), float(item["top"]), float(item["x1"]), float(item["bottom"])


def _key(char: dict[str, Any]) -> tuple[str, float, float]:
    return char["text"], round(float(char["x0"]), 2), round(float(char["top"]), 2)


def _where(item: dict[str, Any]) -> str:
    x0, top, x1, bottom = _bbox(item)
    return f"x {x0:.1f}–{x1:.1f}, y {top:.1f}–{bottom:.1f} pt"
