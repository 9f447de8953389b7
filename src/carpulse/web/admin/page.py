"""Rendering an admin page: the shared page context, and the product's own names for packages."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from carpulse.pricing.catalog import PackageCode, package_name
from carpulse.web.admin.forms import FormErrors, FormValues
from carpulse.web.locale import page_locale
from carpulse.web.pages import render_page


def admin_page(request: Request, template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    locale = page_locale(request)

    def package_label(code: str) -> str:
        return package_name(PackageCode(code), locale) if code in PackageCode.__members__ else code

    values = context.get("values")
    if isinstance(values, dict):
        context["values"] = FormValues(values)
    errors = context.get("errors")
    if (
        isinstance(errors, dict)
        and not isinstance(errors, FormErrors)
        and all(isinstance(value, str) for value in errors.values())
    ):
        context["errors"] = FormErrors(errors)
    return render_page(request, template, status_code=status_code, package_label=package_label, **context)
