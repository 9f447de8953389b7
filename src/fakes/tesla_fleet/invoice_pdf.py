"""A valid one-page PDF per charging invoice, rendered on request and byte-identical every time.

Tesla's real invoices carry a logo and embedded fonts and weigh tens of kilobytes; this one carries a
"logo" of seeded noise (incompressible, like their compressed streams) so it weighs about as much.
"""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal

from fakes.tesla_fleet.charging import ChargingSession, Invoice

_FEE_LABELS = {"CHARGING": "Supercharging", "PARKING": "Idle fee"}


def render(session: ChargingSession, invoice: Invoice, *, customer: str, vehicle_name: str) -> bytes:
    """The invoice as PDF 1.4 bytes (Helvetica, WinAnsi text, a correct cross-reference table)."""
    start, stop = session.local(session.start), session.local(session.stop)
    lines: list[tuple[str, str]] = [
        ("F2", "Tesla Supercharger Invoice"),
        ("F1", "SANDBOX DOCUMENT - issued by the Car Pulse Tesla Fleet fake, not a real invoice"),
        ("F1", ""),
        ("F1", f"Invoice number: {invoice.number}"),
        ("F1", f"Invoice date: {session.local(session.unlatch).date().isoformat()}"),
        ("F1", f"Customer: {customer}"),
        ("F1", f"Vehicle: {vehicle_name} ({session.vin})"),
        ("F1", f"Site: {session.site.name} ({session.site.country})"),
        ("F1", f"Session: {start:%Y-%m-%d %H:%M} - {stop:%H:%M} (UTC{start:%z})"),
        ("F1", f"Energy: {session.energy_kwh} kWh"),
        ("F1", ""),
    ]
    for fee in session.fees:
        if fee.fee_type != "CHARGING" and not fee.usage:
            continue
        unit = "kWh" if fee.fee_type == "CHARGING" else "min"
        label = _FEE_LABELS[fee.fee_type]
        lines.append(
            ("F1", f"{label}: {fee.usage} {unit} x {fee.rate} {fee.currency} = {fee.total_due} {fee.currency}")
        )
    credit = session.total_due - session.net_due
    if credit > 0:
        lines.append(("F1", f"Credit applied: -{credit} {session.currency}"))
    lines += [("F1", ""), ("F2", f"Total: {session.net_due} {session.currency}")]
    lines.append(("F1", f"Of which VAT: {_vat(session.net_due, session.site.country)} {session.currency}"))
    logo = random.Random(invoice.number).randbytes(LOGO_SIDE * LOGO_SIDE * 3)  # noqa: S311 - not a secret
    return _document(_content(lines), logo, title=f"Invoice {invoice.number}", moment=f"{session.start:%Y%m%d%H%M%S}")


LOGO_SIDE = 120  # pixels (RGB): about 43 KB


_VAT_RATES = {"DE": 19, "NL": 21, "SE": 25, "NO": 25, "DK": 25, "CH": 8.1, "GB": 20, "FR": 20, "AT": 20, "CN": 13}


def _vat(gross: Decimal, country: str) -> Decimal:
    rate = Decimal(str(_VAT_RATES.get(country, 0)))
    return (gross - gross / (1 + rate / 100)).quantize(Decimal("0.01"))


def _escape(text: str) -> bytes:
    encoded = text.encode("cp1252", errors="replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(lines: list[tuple[str, str]]) -> bytes:
    parts = [b"q 48 0 0 48 497 770 cm /Logo Do Q", b"BT", b"50 790 Td", b"16 TL"]
    for font, text in lines:
        size = b"14" if font == "F2" else b"10"
        parts.append(b"/" + font.encode() + b" " + size + b" Tf (" + _escape(text) + b") Tj T*")
    parts.append(b"ET")
    return b"\n".join(parts)


def _document(content: bytes, logo: bytes, *, title: str, moment: str) -> bytes:
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> /XObject << /Logo 8 0 R >> >> /Contents 6 0 R >>",
        font % b"Helvetica",
        font % b"Helvetica-Bold",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Title (%s) /Producer (Car Pulse Tesla Fleet fake) /CreationDate (D:%sZ) >>"
        % (_escape(title), moment.encode()),
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Length %d >>\nstream\n%s\nendstream" % (LOGO_SIDE, LOGO_SIDE, len(logo), logo),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    digest = hashlib.md5(bytes(out), usedforsecurity=False).hexdigest().encode()
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R /ID [<%s> <%s>] >>\n" % (len(objects) + 1, digest, digest)
    out += b"startxref\n%d\n%%%%EOF" % xref
    return bytes(out)
