from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

# A link as a mail client would make one clickable: http(s) up to whitespace or a closing bracket.
_LINK = re.compile(r"https?://[^\s<>\"')\]]+")
_TRAILING_PUNCTUATION = ".,;:!?"
# Kept per process, newest dropped last: a long-running sandbox must not grow without bound.
MAX_MESSAGES = 10_000


def extract_links(text: str) -> list[str]:
    """Every http(s) link in a text body, in order, each once, without the sentence's trailing punctuation."""
    links: list[str] = []
    for match in _LINK.finditer(text):
        link = match.group(0).rstrip(_TRAILING_PUNCTUATION)
        if link not in links:
            links.append(link)
    return links


@dataclass
class KeptMessage:
    id: str
    sender: str
    to: str
    subject: str
    text: str
    received_at: datetime
    message_id: str | None = None
    links: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.sender,
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "links": self.links,
            "message_id": self.message_id,
            "received_at": self.received_at.isoformat(),
        }


class MailFake:
    def __init__(self) -> None:
        self._messages: list[KeptMessage] = []
        self._lock = threading.Lock()
        self.app = FastAPI(title="Sandbox mail", docs_url=None, redoc_url=None, openapi_url=None)
        self.app.add_api_route("/messages", self.receive, methods=["POST"])
        self.app.add_api_route("/", self.list_messages, methods=["GET"])

    def keep(self, sender: str, to: str, subject: str, text: str, message_id: str | None = None) -> KeptMessage:
        message = KeptMessage(
            id=uuid.uuid4().hex,
            sender=sender,
            to=to,
            subject=subject,
            text=text,
            received_at=datetime.now(UTC),
            message_id=message_id,
            links=extract_links(text),
        )
        with self._lock:
            self._messages.append(message)
            del self._messages[:-MAX_MESSAGES]
        return message

    def inbox(self, to: str | None = None) -> list[KeptMessage]:
        """Messages to `to` (case-insensitive; every message without it), newest first."""
        with self._lock:
            kept = list(self._messages)
        wanted = to.strip().lower() if to else None
        return [message for message in reversed(kept) if wanted is None or message.to.lower() == wanted]

    async def receive(self, request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        missing = [name for name in ("from", "to", "subject", "text") if not isinstance(body.get(name), str)]
        if missing:
            return JSONResponse({"error": f"missing or not text: {', '.join(missing)}"}, status_code=400)
        message = self.keep(body["from"], body["to"], body["subject"], body["text"], body.get("message_id"))
        return JSONResponse(message.as_json(), status_code=201)

    async def list_messages(self, request: Request) -> JSONResponse:
        to = request.query_params.get("to")
        return JSONResponse({"messages": [message.as_json() for message in self.inbox(to)]})
