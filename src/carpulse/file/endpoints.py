"""Downloads through links the app signed (`kit.storage.UrlSigner`)."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from carpulse.errors import NotFound, problem_responses
from carpulse.file.errors import LinkInvalid
from carpulse.kit.storage import FILES_PATH, InvalidKey, LocalStorage
from carpulse.state import get_state

router = APIRouter(prefix=FILES_PATH, tags=["files"])

FILE_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
# An HTML document (a report's web view) opens as a page: nothing runs, nothing loads, nobody frames it.
DOCUMENT_CSP = f"{FILE_CSP}; frame-ancestors 'none'"
HTML = "text/html"


@router.get(
    "/{key:path}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "the file, typed by its name",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in (
                    "application/pdf",
                    "text/html; charset=utf-8",
                    "application/zip",
                    "text/csv",
                    "image/jpeg",
                    "image/png",
                    "application/octet-stream",
                )
            },
        },
        **problem_responses(LinkInvalid, NotFound),
    },
    summary="Download a stored file through a signed link",
)
async def download(
    request: Request,
    key: str,
    expires: Annotated[int, Query(ge=0)],
    signature: Annotated[str, Query(min_length=64, max_length=64)],
    filename: Annotated[str | None, Query(max_length=200)] = None,
) -> FileResponse:
    storage = get_state(request).storage
    if not isinstance(storage, LocalStorage):
        raise NotFound("No such file.")  # bucket storage signs its own links, straight to the provider
    reason = storage.signer.verify(key, expires, signature, filename)
    if reason is not None:
        raise LinkInvalid(f"This download link is not valid: {reason}.")
    try:
        path = storage.path_for(key)
    except InvalidKey as exc:
        raise NotFound("No such file.") from exc
    if not path.is_file():
        raise NotFound("No such file.")
    media_type = mimetypes.guess_type(filename or path.name)[0] or "application/octet-stream"
    # Stored documents are self-contained (inline styles and images): an HTML report opened from
    # this origin may load and run nothing else.
    headers = {"Cache-Control": "private, no-store", "Content-Security-Policy": FILE_CSP}
    if media_type == HTML:
        # The web view of a document is opened in the browser, not saved (our HTML is UTF-8).
        headers["Content-Security-Policy"] = DOCUMENT_CSP
        return FileResponse(
            path,
            media_type=f"{HTML}; charset=utf-8",
            filename=filename or path.name,
            headers=headers,
            content_disposition_type="inline",
        )
    return FileResponse(path, media_type=media_type, filename=filename or path.name, headers=headers)
