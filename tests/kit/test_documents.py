"""Jinja2 environments per locale, WeasyPrint PDFs, and the process pool that keeps them off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import jinja2
import pytest

from carpulse.kit import documents
from carpulse.kit.documents import (
    document_environment,
    render_html,
    render_pdf,
    render_pdf_off_loop,
    run_in_document_pool,
    shutdown_pdf_pool,
)

# --- reading PDFs back, without adding a dependency ------------------------------------------------

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"^(<<.*?>>)\s*stream\r?\n", re.S)
_TEXT_OPERATOR = re.compile(
    rb"/(\S+)\s+[\d.]+\s+Tf|\[([^\]]*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj|(BT|ET|Td|TD|Tm|T\*)\b", re.S
)


def _stream_data(dictionary: bytes, rest: bytes) -> bytes:
    length = int(re.search(rb"/Length (\d+)", dictionary).group(1))  # type: ignore[union-attr]
    data = rest[:length]
    return zlib.decompress(data) if b"/FlateDecode" in dictionary else data


def pdf_objects(pdf: bytes) -> dict[int, bytes]:
    """Every object of a PDF by number: dictionaries as text, streams decompressed, object streams unpacked."""
    objects: dict[int, bytes] = {}
    for match in _OBJECT.finditer(pdf):
        number, body = int(match.group(1)), match.group(2)
        stream = _STREAM.match(body)
        if stream is None:
            objects[number] = body
            continue
        dictionary = stream.group(1)
        data = _stream_data(dictionary, body[stream.end() :])
        objects[number] = dictionary + b"\n" + data
        if b"/Type /ObjStm" in dictionary:
            first = int(re.search(rb"/First (\d+)", dictionary).group(1))  # type: ignore[union-attr]
            pairs = [int(value) for value in data[:first].split()]
            offsets = list(zip(pairs[::2], pairs[1::2], strict=True))
            for index, (inner, offset) in enumerate(offsets):
                end = offsets[index + 1][1] if index + 1 < len(offsets) else len(data) - first
                objects[inner] = data[first + offset : first + end]
    return objects


def _reference(dictionary: bytes, key: bytes) -> int | None:
    match = re.search(rb"/" + key + rb"\s+(\d+) 0 R", dictionary)
    return int(match.group(1)) if match else None


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for source, target in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            mapping[int(source, 16)] = bytes.fromhex(target.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, target in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(target, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def pdf_text(pdf: bytes) -> str:
    """The text of a WeasyPrint PDF (Type 0 fonts, 2-byte codes, ToUnicode maps); runs joined by spaces."""
    objects = pdf_objects(pdf)
    fonts: dict[bytes, dict[int, str]] = {}
    for body in objects.values():
        for font_dictionary in re.findall(rb"/Font\s*<<(.*?)>>", body, re.S):
            for name, number in re.findall(rb"/(\S+)\s+(\d+) 0 R", font_dictionary):
                to_unicode = _reference(objects.get(int(number), b""), b"ToUnicode")
                if to_unicode is not None:
                    fonts[name] = _cmap(objects[to_unicode])
        font_table = _reference(body, b"Font")
        if font_table is not None and font_table in objects:
            for name, number in re.findall(rb"/(\S+)\s+(\d+) 0 R", objects[font_table]):
                to_unicode = _reference(objects.get(int(number), b""), b"ToUnicode")
                if to_unicode is not None:
                    fonts[name] = _cmap(objects[to_unicode])
    runs: list[str] = []
    for number in sorted(objects):
        body = objects[number]
        if b"BT" not in body or b"Tf" not in body:
            continue
        current: dict[int, str] = {}
        run = ""
        for font, array, single, positioning in _TEXT_OPERATOR.findall(body):
            if font:
                current = fonts.get(font, {})
            elif positioning:
                if run:
                    runs.append(run)
                run = ""
            else:
                for hex_string in re.findall(rb"<([0-9a-fA-F]*)>", array) if array else [single]:
                    codes = bytes.fromhex(hex_string.decode())
                    run += "".join(current.get(int.from_bytes(codes[i : i + 2]), "") for i in range(0, len(codes), 2))
        if run:
            runs.append(run)
    return normalize_spaces(" ".join(runs))


def normalize_spaces(text: str) -> str:
    """No-break and narrow no-break spaces (Babel puts them in amounts) as plain spaces, runs collapsed."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


def poppler_text(pdf: bytes) -> str | None:
    """The same text through `pdftotext`, when poppler is installed on the machine."""
    executable = shutil.which("pdftotext")
    if executable is None:
        return None
    result = subprocess.run([executable, "-", "-"], input=pdf, capture_output=True, check=True)
    return normalize_spaces(result.stdout.decode())


# --- fixtures -------------------------------------------------------------------------------------

SIMPLE_HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 20mm } body { font-family: "DejaVu Sans", sans-serif }
</style></head><body><h1>Invoice 2026-000042</h1><p>Y-tunnus 1234567-8 · Hyvää päivää · 19,00 €</p></body></html>"""

# One pixel, red, PNG.
PIXEL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def long_html(rows: int = 250) -> str:
    """A document of several pages, heavy enough that rendering takes a noticeable time."""
    body = "".join(f"<tr><td>Row {i}</td><td>{i * 7} km</td><td>{i % 97} %</td></tr>" for i in range(rows))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>
    body {{ font-family: "DejaVu Sans", sans-serif; font-size: 9pt }} td {{ border-bottom: 1px solid #ccc }}
    </style></head><body><h1>Load</h1><table>{body}</table></body></html>"""


@pytest.fixture(scope="module", autouse=True)
def pdf_pool() -> Iterator[None]:
    yield
    shutdown_pdf_pool()


# Module-level so the worker process can unpickle them by name.
def worker_pid_and_pdf(html: str) -> tuple[int, bytes]:
    return os.getpid(), render_pdf(html)


def die() -> None:
    os._exit(13)


# --- tests ----------------------------------------------------------------------------------------


class TestPdfTextReader:
    def test_reads_back_what_weasyprint_wrote(self) -> None:
        text = pdf_text(render_pdf(SIMPLE_HTML))

        assert "Invoice 2026-000042" in text
        assert "Y-tunnus 1234567-8" in text
        assert "Hyvää päivää" in text
        assert "19,00 €" in text

    @pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
    def test_agrees_with_pdftotext(self) -> None:
        pdf = render_pdf(SIMPLE_HTML)

        assert poppler_text(pdf) is not None
        for phrase in ("Invoice 2026-000042", "Y-tunnus 1234567-8", "Hyvää päivää", "19,00 €"):
            assert phrase in pdf_text(pdf)
            assert phrase in (poppler_text(pdf) or "")


class TestDocumentEnvironment:
    def test_autoescapes_values(self) -> None:
        template = document_environment("en").from_string("<p>{{ value }}</p>")

        assert template.render(value="<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"

    @pytest.mark.parametrize(("locale", "title"), [("en", "Receipt"), ("fi", "Kuitti"), ("no", "Kvittering")])
    def test_translates_with_the_locale_catalogue(self, locale: str, title: str) -> None:
        template = document_environment(locale).from_string(
            '{{ _("receipt.title") }}|{% trans %}receipt.title{% endtrans %}'
        )

        assert template.render() == f"{title}|{title}"

    def test_escapes_placeholder_values_but_not_the_message(self) -> None:
        template = document_environment("fi").from_string('{{ _("receipt.total_vat", rate=rate) }}')

        assert template.render(rate="<b>25,5 %</b>") == "ALV &lt;b&gt;25,5 %&lt;/b&gt;"

    def test_unknown_locale_renders_english(self) -> None:
        assert document_environment("xx").from_string('{{ _("receipt.title") }}').render() == "Receipt"

    def test_missing_variable_is_an_error_not_blank(self) -> None:
        with pytest.raises(jinja2.UndefinedError):
            document_environment("en").from_string("{{ missing }}").render()

    def test_one_cached_environment_per_locale(self) -> None:
        assert document_environment("fi") is document_environment("fi")
        assert document_environment("fi") is not document_environment("sv")
        assert document_environment("fi-FI") is document_environment("fi")
        assert document_environment("xx-YY") is document_environment("en")

    def test_render_html_loads_package_templates(self) -> None:
        assert (documents.TEMPLATE_DIR / "receipt.html").is_file()
        with pytest.raises(jinja2.TemplateNotFound):
            render_html("no-such-template.html", "en")


class TestRenderPdf:
    def test_produces_a_pdf(self) -> None:
        pdf = render_pdf(SIMPLE_HTML)

        assert pdf.startswith(b"%PDF-")
        assert pdf.rstrip().endswith(b"%%EOF")

    def test_inline_images_are_embedded(self) -> None:
        with_image = pdf_objects(render_pdf(f'<img src="{PIXEL}" style="width: 10mm">'))
        without = pdf_objects(render_pdf("<p>nothing</p>"))

        assert any(b"/Subtype /Image" in body for body in with_image.values())
        assert not any(b"/Subtype /Image" in body for body in without.values())

    def test_never_fetches_external_resources(self) -> None:
        requests: list[str] = []

        class Recorder(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        html = f"""<html><head><link rel="stylesheet" href="{base}/style.css">
        <style>@import url("{base}/import.css"); @font-face {{ font-family: X; src: url("{base}/font.woff") }}
        body {{ font-family: X; background: url("{base}/bg.png") }}</style></head>
        <body><img src="{base}/image.png"><img src="file:///etc/hostname"><p>still renders</p></body></html>"""
        try:
            pdf = render_pdf(html)
        finally:
            server.shutdown()
            server.server_close()

        assert requests == []
        assert "still renders" in pdf_text(pdf)


class TestRenderOffLoop:
    async def test_renders_in_another_process(self) -> None:
        pid, pdf = await run_in_document_pool(worker_pid_and_pdf, SIMPLE_HTML)

        assert pid != os.getpid()
        assert pdf.startswith(b"%PDF-")
        assert await run_in_document_pool(os.getpid) != os.getpid()

    async def test_render_pdf_off_loop_returns_the_pdf(self) -> None:
        pdf = await render_pdf_off_loop(SIMPLE_HTML)

        assert pdf.startswith(b"%PDF-")
        assert "Invoice 2026-000042" in pdf_text(pdf)

    async def test_event_loop_keeps_ticking_while_four_pdfs_render(self) -> None:
        html = long_html()
        await render_pdf_off_loop(html)  # workers started and warm: measure rendering, not start-up
        done = asyncio.Event()
        gaps: list[float] = []

        async def ticker() -> None:
            while not done.is_set():
                before = time.monotonic()
                await asyncio.sleep(0.01)
                gaps.append(time.monotonic() - before)

        ticking = asyncio.create_task(ticker())
        pdfs = await asyncio.gather(*(render_pdf_off_loop(html) for _ in range(4)))
        done.set()
        await ticking

        assert all(pdf.startswith(b"%PDF-") for pdf in pdfs)
        # About 100 ticks here; rendering on the loop instead leaves the ticker 2.
        assert len(gaps) >= 10
        assert max(gaps) < 1.0

    async def test_a_dead_worker_is_replaced(self) -> None:
        with pytest.raises(BrokenProcessPool):
            await run_in_document_pool(die)

        assert (await render_pdf_off_loop(SIMPLE_HTML)).startswith(b"%PDF-")

    async def test_shutdown_then_render_starts_a_new_pool(self) -> None:
        first = await run_in_document_pool(os.getpid)
        shutdown_pdf_pool()
        shutdown_pdf_pool()  # idempotent

        second = await run_in_document_pool(os.getpid)

        assert second not in (first, os.getpid())


class TestRenderProcessesEndWithTheirParent:
    def test_a_killed_parent_leaves_no_render_process_behind(self, tmp_path: Path) -> None:
        script = tmp_path / "parent.py"
        script.write_text(
            "import asyncio, os, sys, time\n"
            "from carpulse.kit.documents import run_in_document_pool\n"
            "if __name__ == '__main__':\n"
            "    print(asyncio.run(run_in_document_pool(os.getpid)), flush=True)\n"
            "    time.sleep(60)\n"
        )
        parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
        try:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            os.kill(child, 0)  # the render process is alive
            parent.send_signal(signal.SIGKILL)  # no chance to shut the pool down
            parent.wait(10)

            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(child, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(child, signal.SIGKILL)
                raise AssertionError("the render process outlived its parent")
        finally:
            if parent.poll() is None:
                parent.kill()

    @pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the processes through /proc")
    @pytest.mark.parametrize("lane", [False, True], ids=["pool", "lane"])
    def test_a_parent_killed_before_its_render_process_has_started_leaves_nothing(
        self, tmp_path: Path, lane: bool
    ) -> None:
        # Killed 20 ms after the first submit: the render process (and multiprocessing's resource
        # tracker) are spawned but have not run a line of ours yet.
        script = tmp_path / "parent.py"
        script.write_text(
            "import asyncio, os, signal, time\n"
            "from carpulse.kit.documents import run_in_document_pool\n"
            "async def main():\n"
            "    asyncio.get_running_loop().call_later(0.02, os.kill, os.getpid(), signal.SIGKILL)\n"
            f"    await run_in_document_pool(time.sleep, 60, lane={lane})\n"
            "if __name__ == '__main__':\n"
            "    asyncio.run(main())\n"
        )
        marker = f"CARPULSE_TEST_ORPHAN={os.getpid()}-{time.monotonic_ns()}"
        name, value = marker.split("=")
        parent = subprocess.Popen([sys.executable, str(script)], env=os.environ | {name: value})
        try:
            assert parent.wait(30) == -signal.SIGKILL
            deadline = time.monotonic() + 5
            while (survivors := _processes_with(marker)) and time.monotonic() < deadline:
                time.sleep(0.1)
            for pid in survivors:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            assert survivors == [], "processes outlived their parent"
        finally:
            if parent.poll() is None:
                parent.kill()


def _processes_with(marker: str) -> list[int]:
    """Live processes whose environment holds `marker` (they inherited it from the test's parent)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or not ours
        if marker.encode() in environment.split(b"\0"):
            found.append(int(entry.name))
    return found
