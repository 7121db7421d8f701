"""uvicorn's HTTP protocol with a deadline for request headers.

uvicorn times out idle keep-alive connections, but not a client that opens a connection and then
sends its request line and headers one byte at a time (slowloris): 2,000 such connections stay
open for ever. This protocol closes a connection whose headers are not complete within
``header_timeout_s`` of its opening, or of the first byte of a following request on the same
connection. Body deadlines are kept by :class:`service.middleware.GateMiddleware`.
"""

from __future__ import annotations

import asyncio
import logging
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("provkit.access")


@cache
def header_timeout_s() -> float:
    """The setting, read once per worker process."""
    from service.settings import Settings

    return Settings().header_timeout_s


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` plus a header deadline (see the module docstring)."""

    _header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(header_timeout_s(), self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            log.info("closed a connection whose request headers were late")
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
