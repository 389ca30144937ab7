"""The access log: one ``motia.access`` line per HTTP request, once its response has ended.

``GET /todo?authToken=[redacted] 201 3.2ms``, with the request's trace id
(the ``x-trace-id`` the response carries) as the record's ``trace_id`` and the
fields as ``http`` (``method``, ``path``, ``status``, ``duration_ms``) for the
JSON format. Token query parameters are redacted before the line is made.
Requests under a quiet prefix (the console's own polling) are logged at
DEBUG. A request that ends without a response is logged with status 500
when the app raised, else 499 (the client went away first).

WebSocket handshakes are left to the server's own line (uvicorn's
``"WebSocket /path" [accepted]``, which the log formats redact): wrapping a
socket's ``send`` would turn off the stream fast path (``frame_writer``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from starlette.types import ASGIApp

from motia._core.asgi import Message, Receive, Scope, Send
from motia._runtime.redaction import redact_query

__all__ = ["ACCESS_LOG", "AccessLog"]

ACCESS_LOG = logging.getLogger("motia.access")
_TRACE_HEADER = b"x-trace-id"


class AccessLog:
    """Wraps one HTTP request's ``send`` to note its status and trace id, then logs it."""

    __slots__ = ("quiet_prefixes",)

    def __init__(self, quiet_prefixes: Sequence[str] = ()) -> None:
        self.quiet_prefixes = tuple(quiet_prefixes)

    async def serve(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        level = logging.DEBUG if scope["path"].startswith(self.quiet_prefixes) else logging.INFO
        if not ACCESS_LOG.isEnabledFor(level):
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: dict[str, object] = {}

        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                seen["trace_id"] = _trace_id(message.get("headers") or ())
            await send(message)

        status_if_raised = 500
        try:
            await app(scope, receive, noting_send)
            status_if_raised = 499
        finally:
            status = seen.get("status", status_if_raised)
            _log(level, scope, status, time.perf_counter() - started, seen.get("trace_id"))


def _trace_id(headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == _TRACE_HEADER:
            return value.decode("latin-1")
    return None


def _log(level: int, scope: Scope, status: object, seconds: float, trace_id: object) -> None:
    path = scope.get("root_path", "") + scope["path"]
    query = scope.get("query_string", b"")
    if query:
        path += "?" + redact_query(query.decode("latin-1"))
    duration_ms = round(seconds * 1000, 2)
    fields = {"method": scope["method"], "path": path, "status": status, "duration_ms": duration_ms}
    ACCESS_LOG.log(
        level,
        "%s %s %s %.1fms",
        scope["method"],
        path,
        status,
        duration_ms,
        extra={"trace_id": trace_id, "http": fields},
    )
