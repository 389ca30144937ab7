"""Writing a streamed body's chunk straight to uvicorn's transport.

Each ``http.response.body`` message of a streamed response passes a coroutine of
the server's and a dozen checks before its bytes, framed as an HTTP/1.1 chunk,
reach the transport. On uvicorn's httptools protocol a chunk of a response that
has started, uses chunked encoding and is not complete depends on nothing else,
so a woken stream writes it itself, framed the same way, for a fraction of the
cost. Whenever anything else holds (another server or protocol, ``send`` wrapped
by middleware, a HEAD request, a paused or lost connection, an attribute missing
or of another kind) ``write_chunk`` declines and the ASGI ``send`` is used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["chunk_cycle", "write_chunk"]


def chunk_cycle(send: object) -> Any | None:
    """uvicorn's httptools request cycle behind ``send``, or None (the ASGI ``send`` is used).

    It reads uvicorn's private attributes, so it declines on anything it does not recognise.
    """
    try:
        return _httptools_cycle(send)
    except Exception:  # uvicorn's internals changed shape: the ASGI send still works
        return None


def _httptools_cycle(send: object) -> Any | None:
    try:
        from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
    except ImportError:
        return None
    cycle = getattr(send, "__self__", None)
    if type(cycle) is not RequestResponseCycle or cycle.scope.get("method") == "HEAD":
        return None
    flow, transport = getattr(cycle, "flow", None), getattr(cycle, "transport", None)
    if not isinstance(getattr(flow, "write_paused", None), bool):
        return None
    if not callable(getattr(transport, "write", None)):
        return None
    if not all(isinstance(getattr(cycle, name, None), bool) for name in _STATE):
        return None
    return cycle


_STATE = ("disconnected", "response_started", "response_complete")


def write_chunk(cycle: Any, body: bytes) -> bool:
    """Write ``body`` as one chunk of the response, unless the response has not started,
    is not chunked, is complete, or its connection is paused or gone.

    Once one write went through, only the connection can stop the next: a body stream's
    hot path (``BodyStream.write_frame``) repeats just that check and the write, inline."""
    if cycle.chunked_encoding is not True or cycle.response_complete or not cycle.response_started:
        return False
    if cycle.disconnected or cycle.flow.write_paused:
        return False
    cycle.transport.write(b"%x\r\n%b\r\n" % (len(body), body))
    return True
