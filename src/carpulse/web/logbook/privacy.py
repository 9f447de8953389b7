"""`/logbook/privacy`: everything we hold about the driver as a ZIP, and erasing the account (after a confirm step)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from carpulse.car.service import webhook_tokens
from carpulse.database import SessionDep
from carpulse.logbook.service import erase, export
from carpulse.state import get_state
from carpulse.web.csrf import verify_csrf
from carpulse.web.pages import page_router, render_page
from carpulse.web.session import PageDriver, sign_out

router = page_router()

CONFIRM_FIELD = "confirm"


@router.get("/logbook/privacy")
async def privacy(request: Request, account: PageDriver) -> Response:
    return render_page(request, "pages/logbook/privacy.html", error=None)


@router.get("/logbook/privacy/export.zip")
async def export_zip(request: Request, db: SessionDep, account: PageDriver) -> Response:
    archive = await export(db, get_state(request).settings, account)
    return Response(
        archive,
        media_type="application/zip",
        headers={"content-disposition": 'attachment; filename="carpulse-logbook.zip"', "cache-control": "no-store"},
    )


@router.post("/logbook/privacy/delete", dependencies=[Depends(verify_csrf)])
async def delete_account(
    request: Request,
    db: SessionDep,
    account: PageDriver,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirm != "yes":
        return render_page(
            request, "pages/logbook/privacy.html", status_code=422, error="web.logbook.privacy.confirm_needed"
        )
    erased = await erase(db, account)
    webhook_tokens.forget(get_state(request).replica_caches)
    request.state.page_account = None
    response = render_page(request, "pages/logbook/erased.html", erased=erased)
    sign_out(request, response)
    return response
