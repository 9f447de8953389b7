"""File and folder names in the ZIPs come from text we do not control; whatever it is, the name is safe."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carpulse.charging.names import FolderNames, content_disposition, safe_file_name, safe_name


def assert_safe_component(name: str, max_bytes: int) -> None:
    assert name
    assert name not in (".", "..")
    assert ".." not in name
    assert "/" not in name
    assert "\\" not in name
    assert not any(unicodedata.category(char)[0] in "CZ" for char in name), name
    assert not any(char in name for char in ':*?"<>|')
    assert not name.startswith(("-", ".", " "))
    assert len(name.encode("utf-8")) <= max_bytes


class TestSafeName:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("../../etc/passwd", "etc-passwd"),
            ("..\\..\\Windows\\System32", "Windows-System32"),
            ("Road Runner", "Road-Runner"),
            ("Silver Arrow / 2", "Silver-Arrow-2"),
            ("Ørestad æ", "Ørestad-æ"),
            ("日本語の車", "日本語の車"),
            ("\x00\x1f\r\nname\t", "name"),
            ("evil\u202egpj.exe", "evil-gpj.exe"),  # a right-to-left override would hide the real extension
            ('=HYPERLINK("http://x","y")', "HYPERLINK(-http-x-y-)"),
        ],
    )
    def test_examples(self, text: str, expected: str) -> None:
        assert safe_name(text, fallback="vehicle") == expected

    @pytest.mark.parametrize("text", ["", "..", ".", "/", "   ", "\x00", "-._-"])
    def test_nothing_left_gives_the_fallback(self, text: str) -> None:
        assert safe_name(text, fallback="vehicle") == "vehicle"

    @pytest.mark.parametrize("text", ["CON", "con.txt", "LPT1", "nul"])
    def test_windows_device_names_are_prefixed(self, text: str) -> None:
        assert safe_name(text, fallback="x") == f"_{text}"

    def test_cut_to_the_byte_limit_without_splitting_a_character(self) -> None:
        name = safe_name("ø" * 200, fallback="x", max_bytes=61)

        assert name == "ø" * 30
        assert len(name.encode()) == 60

    @given(st.text(max_size=300), st.integers(min_value=8, max_value=200))
    def test_any_text_gives_a_safe_component(self, text: str, max_bytes: int) -> None:
        assert_safe_component(safe_name(text, fallback="fallback", max_bytes=max_bytes), max_bytes)

    def test_the_extension_is_made_safe_too(self) -> None:
        assert safe_file_name("invoice", "p/d\nf", fallback="x") == "invoice.p-d-f"
        assert safe_file_name("invoice", "..", fallback="x") == "invoice.bin"

    @given(st.text(max_size=300))
    def test_file_names_keep_their_extension_and_limit(self, text: str) -> None:
        name = safe_file_name(text, "pdf", fallback="invoice", max_bytes=40)

        assert name.endswith(".pdf")
        assert_safe_component(name, 40)


class TestFolderNames:
    def test_clashes_are_numbered_case_insensitively(self) -> None:
        names = FolderNames()

        assert [names.claim(n) for n in ("a.pdf", "A.pdf", "a.pdf", "a-2.pdf", "b")] == [
            "a.pdf",
            "A-2.pdf",
            "a-3.pdf",
            "a-2-2.pdf",
            "b",
        ]

    @given(st.lists(st.sampled_from(["x" * 118 + ".pdf", "X" * 118 + ".pdf", "y.pdf"]), max_size=30))
    def test_claimed_names_are_unique_and_within_the_limit(self, wanted: list[str]) -> None:
        names = FolderNames(max_bytes=122)

        claimed = [names.claim(name) for name in wanted]

        assert len({name.casefold() for name in claimed}) == len(claimed)
        assert all(len(name.encode()) <= 122 and name.endswith(".pdf") for name in claimed)


class TestContentDisposition:
    def test_ascii_fallback_and_utf8_name(self) -> None:
        header = content_disposition("charging-invoices-Økern-Blåbær-Straße-2025.zip")

        assert header == (
            'attachment; filename="charging-invoices-Okern-Blabaer-Strasse-2025.zip"; '
            "filename*=UTF-8''charging-invoices-%C3%98kern-Bl%C3%A5b%C3%A6r-Stra%C3%9Fe-2025.zip"
        )

    @pytest.mark.parametrize(
        ("name", "header"),
        [
            ("a.b\r\nSet-Cookie: x", "attachment; filename=\"a.b-Set-Cookie-x\"; filename*=UTF-8''a.b-Set-Cookie-x"),
            ("../x.pdf", "attachment; filename=\"x.pdf\"; filename*=UTF-8''x.pdf"),
            ("", "attachment; filename=\"download\"; filename*=UTF-8''download"),
        ],
    )
    def test_the_utf8_name_is_made_safe_too(self, name: str, header: str) -> None:
        assert content_disposition(name) == header

    @given(st.text(max_size=100))
    def test_never_breaks_the_header(self, name: str) -> None:
        header = content_disposition(name)

        assert header.isascii()
        assert not any(char in header for char in "\r\n\x00")
        assert header.count('"') == 2
