from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class WebhookAccepted(BaseModel):
    received: Literal[True] = True
    duplicate: bool
