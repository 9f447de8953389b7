"""The Jinja2 environment of the web app's pages: autoescaped, strict, with `asset_url` for static files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2
from fastapi.responses import HTMLResponse

from carpulse.web.assets import asset_url

TEMPLATE_DIR = Path(__file__).parent / "templates"


@cache
def page_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["asset_url"] = asset_url
    return environment


def render_page(template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """`template` (a file under `web/templates`) rendered as an HTML response."""
    return HTMLResponse(page_environment().get_template(template).render(**context), status_code=status_code)
