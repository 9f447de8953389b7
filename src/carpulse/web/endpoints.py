"""Static files under their hashed names, and the API docs pages (Swagger UI, ReDoc) built on them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from carpulse.web.assets import CACHE_CONTROL, STATIC_PREFIX, Asset, manifest
from carpulse.web.errors import AssetNotFound
from carpulse.web.pages import render_template

OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"

static_router = APIRouter(include_in_schema=False)


@static_router.api_route(STATIC_PREFIX + "{path:path}", methods=["GET", "HEAD"])
async def static_file(request: Request, path: str) -> Response:
    asset = manifest().find(STATIC_PREFIX + path)
    if asset is None:
        # An unhashed or stale name is not redirected: a page that asks for one was not rendered
        # with `asset_url`, and a year-long cache must never hold a name whose content can change.
        raise AssetNotFound(f"No static file at {STATIC_PREFIX}{path}; load it by the URL asset_url() gives.")
    return _file_response(asset, request)


def _file_response(asset: Asset, request: Request) -> Response:
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": asset.etag}
    if asset.compressible:
        headers["Vary"] = "Accept-Encoding"
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    body = asset.body
    if asset.compressible and _accepts_gzip(request.headers.get("accept-encoding", "")):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)


def _accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.split(","):
        coding, _, parameters = item.partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = parameters.strip().removeprefix("q=").strip()
            return quality == "" or _positive(quality)
    return False


def _positive(quality: str) -> bool:
    try:
        return float(quality) > 0
    except ValueError:
        return False


def docs_router(title: str, openapi_url: str, prefixes: tuple[str, ...] = ("",)) -> APIRouter:
    """`{prefix}/docs` (Swagger UI) and `{prefix}/redoc` for each prefix, and Swagger UI's OAuth2 redirect page.

    The pages load only our own static files, so they work offline under a CSP without inline script.
    """
    router = APIRouter(include_in_schema=False)

    async def swagger() -> HTMLResponse:
        return render_template(
            "docs/swagger.html",
            title=f"{title} – Swagger UI",
            openapi_url=openapi_url,
            oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
        )

    async def redoc() -> HTMLResponse:
        return render_template("docs/redoc.html", title=f"{title} – ReDoc", openapi_url=openapi_url)

    async def oauth2_redirect() -> HTMLResponse:
        return render_template("docs/oauth2-redirect.html", title=f"{title} – Swagger UI: OAuth2 redirect")

    for prefix in prefixes:
        router.add_api_route(f"{prefix}/docs", swagger, methods=["GET"])
        router.add_api_route(f"{prefix}/redoc", redoc, methods=["GET"])
    router.add_api_route(OAUTH2_REDIRECT_PATH, oauth2_redirect, methods=["GET"])
    return router
