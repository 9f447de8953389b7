"""Downloads through links the app signed (`kit.storage.UrlSigner`)."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from carpulse.errors import NotFound, problem_responses
from carpulse.file.errors import LinkInvalid
from carpulse.kit.storage import FILES_PATH, InvalidKey
from carpulse.state import get_state

router = APIRouter(prefix=FILES_PATH, tags=["files"])


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
    return FileResponse(
        path, media_type=media_type, filename=filename or path.name, headers={"Cache-Control": "private, no-store"}
    )
