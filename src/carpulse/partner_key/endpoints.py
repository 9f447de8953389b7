"""The Tesla mount's partner key: Tesla fetches it from this well-known path (reference §2, step 2–3)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from carpulse.errors import problem_responses
from carpulse.partner_key.errors import PartnerKeyMissing
from carpulse.partner_key.service import partner_key
from carpulse.state import get_state

router = APIRouter(tags=["tesla partner"])


@router.get(
    "/.well-known/appspecific/com.tesla.3p.public-key.pem",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **problem_responses(PartnerKeyMissing)},
    summary="The public key Tesla verifies our partner registration with",
)
async def public_key(request: Request) -> PlainTextResponse:
    path = Path(get_state(request).settings.tesla.public_key_path)
    pem = await asyncio.to_thread(partner_key.public_pem, path)
    if pem is None:
        raise PartnerKeyMissing("No public key is configured; an operator runs `carpulse keys generate`.")
    return PlainTextResponse(pem, headers={"Cache-Control": "public, max-age=3600"})
