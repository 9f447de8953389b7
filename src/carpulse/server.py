"""How `carpulse serve` runs uvicorn: timeouts for slow and idle clients, and a cap on connections.

uvicorn (0.54) has a keep-alive timeout but none for reading a request's head: a client that sends
a header byte every few seconds keeps its connection, and a task, forever (slowloris). The protocol
below closes a connection whose request line and headers are not complete within the header timeout,
counted from the connection's start or from the first byte of each next request, and answers 431 to a
head larger than the limit (httptools buffers a head without bound; uvicorn's `h11_max_incomplete_event_size`
applies to its h11 protocol only).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from carpulse.config import ServerSettings, get_settings
from carpulse.kit.logs import get_logger

log = get_logger("carpulse.http")

_HEAD_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request head takes too long."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read here, not passed in: uvicorn builds the protocol by class, also in its reload subprocess.
        server = get_settings().server
        self.header_timeout_seconds = server.header_timeout_seconds
        self.max_head_bytes = server.max_head_bytes
        self._head_deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout_seconds, self._head_timed_out)

    def _disarm_head_deadline(self) -> None:
        self._head_bytes = 0
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            log.info("http.header_timeout", seconds=self.header_timeout_seconds)
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_deadline is None or self.transport.is_closing():
            return
        # Still inside a request head after this chunk: count it, so a head cannot grow without bound.
        self._head_bytes += len(data)
        if self._head_bytes > self.max_head_bytes:
            log.info("http.header_too_large", limit=self.max_head_bytes)
            self._disarm_head_deadline()
            self.transport.write(_HEAD_TOO_LARGE)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_head_deadline()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request's head is timed from its first byte; until then the keep-alive timeout rules.
        self._disarm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)


def uvicorn_options(settings: ServerSettings) -> dict[str, Any]:
    """The `uvicorn.run` keyword arguments that bound slow, idle and excess clients."""
    return {
        "http": HeaderTimeoutProtocol,
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        "limit_concurrency": settings.limit_concurrency,
        "backlog": settings.backlog,
    }
