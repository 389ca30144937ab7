"""``LimitedHttpProtocol``: uvicorn's HTTP/1.1 protocol with the limits no ASGI app can set.

An ASGI app sees a request only once its whole head has arrived, so a client that
never finishes its head, sends megabytes of headers, or opens thousands of
connections must be stopped by the server. ``motia start``, ``motia dev`` and the
test kit's ``LiveServer`` run uvicorn with this protocol, which takes its limits from
the served app's ``Settings`` and counts each refusal in its ``Stats``:

- a connection past ``max_connections`` (HTTP and WebSocket alike; never more than the
  process's open-file limit less ``SPARE_FILES``, so that the cap is reached before
  ``accept`` fails for want of file descriptors) makes room by
  closing, with a 503, the connection that has waited longest without a request in
  progress (a slow head, an idle keep-alive); when every one is busy, it gets the 503;
- a head (request line and headers) past ``max_header_size`` bytes or ``max_headers``
  lines gets a 431 as soon as it passes, before more of it is kept;
- a head not complete ``header_timeout`` seconds after the connection opened, or after
  its first byte on a kept-alive connection, gets a 408;
- an idle kept-alive connection is closed after ``keep_alive_timeout`` seconds.

Each answer is a JSON body, then the connection is closed: for writing at once, and
for reading (what else the client sends is discarded) once the client has closed, or
after ``LINGER`` seconds. Closing both at once would make the kernel answer data still
arriving with a reset, which can destroy the answer before the client reads it. The
app's own refusals that end a connection while the body is still arriving (413, 503,
408) are closed the same way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
from typing import Any
from weakref import WeakKeyDictionary

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from motia._core.json import dumps_bytes
from motia._http.asgi_app import MotiaStarlette
from motia._runtime.stats import Stats
from motia.settings import Settings

__all__ = ["LINGER", "SPARE_FILES", "LimitedHttpProtocol", "connection_cap"]

log = logging.getLogger("motia.http")

SPARE_FILES = 64
"""File descriptors left for everything but client connections (files, Redis, SQLite)."""

LINGER = 2.0
"""Seconds a refused connection keeps reading (and discarding) before it is closed."""

# Per server: its connections with no request in progress, longest waiting first.
_WAITING: WeakKeyDictionary[ServerState, dict[LimitedHttpProtocol, None]] = WeakKeyDictionary()

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large",
            503: b"Service Unavailable"}  # fmt: skip


class LimitedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.settings, self.stats = _limits_of(config.loaded_app)
        self.timeout_keep_alive = self.settings.keep_alive_timeout  # type: ignore[assignment]
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._head_lines = 0
        self._in_body = False
        self._crossed = False  # this chunk ended a head or a message
        self._refused = False
        self._waiting = _WAITING.setdefault(server_state, {})
        self._cap = connection_cap(self.settings.max_connections)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._cap and not self._make_room():
            self._refuse(503, "Too many connections", "max_connections")
            return
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:
            self._waiting[self] = None  # idle until the next request: may be closed for room

    def _make_room(self) -> bool:
        """Close the connection that waited longest without a request, if there is one."""
        for oldest in self._waiting:
            oldest._refuse(503, "Too many connections", "max_connections")
            return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._crossed = False
        super().data_received(data)
        if self._in_body or self._crossed or self._refused or self.transport.is_closing():
            return
        # A chunk wholly inside a head; one that crossed a boundary is not counted, so a
        # head may pass the limit by at most one read before it is refused.
        self._head_bytes += len(data)
        if self._head_bytes > self.settings.max_header_size:
            self._refuse(431, "Request header fields too large", "max_header_size")

    # -- parser callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_lines = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_lines += 1
        if self._head_lines <= self.settings.max_headers:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        self._crossed, self._in_body, self._head_bytes = True, True, 0
        if self._refused:
            return
        if self._head_lines > self.settings.max_headers:
            self._refuse(431, "Request header fields too large", "max_headers")
            return
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.transport is self.transport:
            self.cycle.transport = _ClosingAfterBody(self)  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._crossed, self._in_body = True, False
        if not self._refused:
            super().on_message_complete()

    # -- refusing -----------------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.settings.header_timeout, self._head_late)
        self._waiting[self] = None

    def _disarm_head_timer(self) -> None:
        self._waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if not self._refused and not self.transport.is_closing():
            self._refuse(408, "Request head timed out", "header_timeout")

    def _refuse(self, status: int, message: str, limit: str) -> None:
        """Answer ``status`` with a JSON error (unless a response is under way), then close."""
        self._refused = True
        value = self._cap if limit == "max_connections" else getattr(self.settings, limit)
        self.stats.hit(limit)
        client = f"{self.client[0]}" if self.client else "?"
        log.warning("connection from %s refused with %d: %s (%s=%s)",
                    client, status, message, limit, value)  # fmt: skip
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a response is under way: no room for another
            return
        self.transport.write(_response(status, {"error": message, "limit": value}))
        self.close_lingering()

    def close_lingering(self) -> None:
        """Close for writing now; for reading when the client closes or after ``LINGER``
        seconds, discarding what it still sends."""
        self._refused = True
        self._disarm_head_timer()
        self.connections.discard(self)  # while it lingers, it leaves room for another
        transport = self.transport
        if transport.is_closing() or not transport.can_write_eof():
            transport.close()
            return
        self.flow.resume_reading()
        transport.write_eof()
        self.loop.call_later(LINGER, transport.close)


class _ClosingAfterBody:
    """A request's view of the transport: closing it while the request's body is still
    arriving closes lingering, so that the client reads the answer before a reset."""

    def __init__(self, protocol: LimitedHttpProtocol) -> None:
        self._protocol = protocol
        self._transport = protocol.transport

    def write(self, data: bytes) -> None:
        self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def close(self) -> None:
        cycle = self._protocol.cycle
        if cycle is not None and cycle.more_body and not self._transport.is_closing():
            self._protocol.close_lingering()
        else:
            self._transport.close()


def _response(status: int, error: dict[str, Any]) -> bytes:
    body = dumps_bytes(error)
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n" % (status, _REASONS[status], len(body))
    )
    return head + body


@functools.cache
def connection_cap(max_connections: int) -> int:
    """``max_connections``, or fewer if the process may not open that many files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max_connections
    return max(1, min(max_connections, soft - SPARE_FILES))


def _limits_of(app: Any) -> tuple[Settings, Stats]:
    """The served Motia app's settings and counters, under whatever uvicorn wrapped it in;
    the default settings for any other app."""
    for _ in range(8):
        if isinstance(app, MotiaStarlette) and app.http_host is not None:
            return app.http_host.settings, app.http_host.stats
        app = getattr(app, "app", None)
    return Settings(), Stats()
