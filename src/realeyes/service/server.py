"""uvicorn's HTTP/1.1 protocol with the two limits it lacks: a deadline for a request's headers and a cap on open
connections. uvicorn closes a connection left idle after a response (timeout_keep_alive), but one that never
finishes its first request's headers (slowloris: connect, send a few bytes, wait) is kept forever, and every
such connection holds a file descriptor. Here a connection must deliver a request's complete headers within
REALEYES_HEADER_TIMEOUT_SECONDS of opening (or of its first byte after an idle keep-alive), however slowly it
trickles, and connections beyond REALEYES_MAX_CONNECTIONS (per server process) are closed at once."""

from __future__ import annotations

import asyncio
import logging
from functools import cache
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from realeyes.application.settings import ServiceSettings

log = logging.getLogger(__name__)


@cache
def _limits() -> ServiceSettings:
    """Read once per process: uvicorn starts each worker process with the REALEYES_* environment."""
    return ServiceSettings()


class GuardedH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = _limits().header_timeout_seconds
        self.max_connections = _limits().max_connections
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("connection refused: %d open (REALEYES_MAX_CONNECTIONS)", len(self.connections) - 1)
            transport.close()
            return
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle:  # a request's headers are complete: the app has it now
            self._cancel_header_deadline()
        elif self.cycle is None or self.cycle.response_complete:  # waiting for (the rest of) the next headers
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:  # one deadline per request: trickling bytes does not extend it
            self._header_deadline = self.loop.call_later(self.header_timeout, self._header_timed_out)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_timed_out(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
