"""A vehicle report as a document: inputs → view model (`report.view`) → Jinja2 HTML → WeasyPrint PDF.

`render_document` is the whole chain for one language; it runs in the document process pool (or a
worker process), never on the API's event loop, so its inputs are plain picklable data.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from carpulse.battery.estimator import BatterySample
from carpulse.kit.documents import render_html, render_pdf
from carpulse.provider.base import BrandInfo, VehicleSnapshot

TEMPLATE = "report.html"


@dataclass(frozen=True)
class PhotoImage:
    content_type: str
    data: bytes

    def data_uri(self) -> str:
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode()}"


@dataclass(frozen=True)
class DocumentInputs:
    """Everything one document needs, as plain data: it crosses into a worker process by pickle
    (pydantic's generic models do not pickle, so snapshots travel as their JSON dumps)."""

    snapshot_data: dict[str, Any]
    package: str
    locale: str
    generated_at: datetime
    reference: str
    display_name: str | None = None
    # The charging section's lookback in calendar months, as the invoice API counts them.
    history_months: int = 24
    history_samples: list[BatterySample] = field(default_factory=list)
    # Battery samples of other cars of the same model, drive and model year, by VIN: the battery's cohort.
    cohort_samples: dict[str, list[BatterySample]] = field(default_factory=dict)
    # How long after payment the customer may ask for this report again (a fresh reading), if they may.
    reread_days: int | None = None
    photos: list[PhotoImage] = field(default_factory=list)
    # The car's brand: its name, its field map, what it can give.
    brand: BrandInfo = field(kw_only=True)

    @cached_property
    def snapshot(self) -> VehicleSnapshot:
        return VehicleSnapshot.model_validate(self.snapshot_data)


def render_report_html(inputs: DocumentInputs) -> str:
    from carpulse.report.view import build_view

    view = build_view(inputs)
    return render_html(TEMPLATE, view.locale, report=view)


def render_document(inputs: DocumentInputs) -> tuple[str, bytes]:
    """HTML and PDF of one report. CPU-bound: call it in the document pool."""
    html = render_report_html(inputs)
    return html, render_pdf(html)
