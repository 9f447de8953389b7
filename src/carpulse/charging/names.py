"""Safe file and folder names from text we do not control (vehicle names are the owner's, file names the brand's).

A name keeps letters, digits and marks of any script plus `_ . ( )`; every other run of characters
(separators, `..`, control and format characters, spaces, quotes) becomes one `-`. Names are cut to a
byte length every file system accepts and never collide within a folder, whatever the case.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 120
_KEPT_PUNCTUATION = frozenset("_.()")
_DOT_RUNS = re.compile(r"\.{2,}")
_DASH_RUNS = re.compile(r"[-._]*-[-._]*")
_EDGES = "-._ "
# Names Windows refuses for a file or folder, with any extension.
# Letters NFKD does not decompose into ASCII, for the plain-ASCII fallback name of a download.
_ASCII_LETTERS = str.maketrans(
    {
        "Ø": "O",
        "ø": "o",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "ß": "ss",
        "Đ": "D",
        "đ": "d",
        "Ł": "L",
        "ł": "l",
        "Þ": "Th",
        "þ": "th",
        "Ð": "D",
        "ð": "d",
    }
)
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)), *(f"LPT{n}" for n in range(10))})


def _kept(char: str) -> bool:
    return (
        unicodedata.category(char)[0] in "LN" or unicodedata.category(char) in ("Mn", "Mc") or char in _KEPT_PUNCTUATION
    )


def _cut(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def safe_name(text: str | None, *, fallback: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """One path component: never empty, never `.` or `..`, no separator, at most `max_bytes` in UTF-8."""
    normalized = unicodedata.normalize("NFKC", text or "")
    replaced = "".join(char if _kept(char) else "-" for char in normalized)
    name = _DASH_RUNS.sub("-", _DOT_RUNS.sub(".", replaced)).strip(_EDGES)
    name = _cut(name, max_bytes).strip(_EDGES)
    if not name:
        name = _cut(fallback, max_bytes)
    if name.split(".")[0].upper() in _RESERVED:
        name = _cut(f"_{name}", max_bytes)
    return name


def safe_file_name(stem: str | None, extension: str, *, fallback: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """`stem.extension`, both made safe, the stem cut so that the whole name fits `max_bytes`."""
    suffix = "." + safe_name(extension, fallback="bin", max_bytes=16)
    return safe_name(stem, fallback=fallback, max_bytes=max_bytes - len(suffix.encode())) + suffix


def _safe_path_name(name: str, fallback: str) -> str:
    stem, dot, extension = name.rpartition(".")
    if dot and stem and extension:
        return safe_file_name(stem, extension, fallback=fallback)
    return safe_name(name, fallback=fallback)


class FolderNames:
    """The names taken in one folder; a clash (compared case-insensitively) gets `-2`, `-3`, … before the extension."""

    def __init__(self, max_bytes: int = MAX_NAME_BYTES) -> None:
        self.max_bytes = max_bytes
        self._taken: set[str] = set()

    def claim(self, name: str) -> str:
        stem, dot, extension = name.rpartition(".")
        if not dot or not stem:
            stem, extension = name, ""
        suffix = f".{extension}" if extension else ""
        candidate, number = name, 1
        while candidate.casefold() in self._taken:
            number += 1
            counter = f"-{number}"
            candidate = _cut(stem, self.max_bytes - len(suffix) - len(counter)).rstrip(_EDGES) + counter + suffix
        self._taken.add(candidate.casefold())
        return candidate


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266, RFC 8187), both made safe."""
    name = _safe_path_name(file_name, "download")
    decomposed = unicodedata.normalize("NFKD", name.translate(_ASCII_LETTERS)).encode("ascii", errors="ignore")
    fallback = _safe_path_name(decomposed.decode("ascii"), "download")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
