"""Helpers for page tests over HTTP: the CSRF token a page carries, and posting a form as a browser does."""

from __future__ import annotations

import re
from typing import Any

import httpx

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def csrf_of(response: httpx.Response) -> str:
    """The CSRF token a rendered page carries (the browser's cookie holds the same)."""
    match = _META.search(response.text)
    assert match, "the page carries no CSRF token"
    return match.group(1)


async def get_page(client: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
    headers = HTML | kwargs.pop("headers", {})
    return await client.get(path, headers=headers, **kwargs)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, from_page: str | None = None, **kwargs: Any
) -> httpx.Response:
    """Post `data` as the form on `from_page` (default `path`) would: with the token that page carried."""
    page = await get_page(client, from_page or path)
    headers = HTML | {"origin": str(client.base_url).rstrip("/")} | kwargs.pop("headers", {})
    return await client.post(path, data={"csrf_token": csrf_of(page), **data}, headers=headers, **kwargs)
