"""Ending a client's connection from the app, without waiting for the client.

An app that gives up on a client (it stopped reading, or reads too slowly) must
free the socket at once, yet asyncio's ``transport.close()`` keeps the socket until
its write buffer is flushed, and the kernel keeps a closed socket's unsent bytes
until the peer reads them: a client that never reads would hold both forever.
ASGI has no message for this, so the transport is found behind the server's
``send``: uvicorn's HTTP and WebSocket protocols keep it as ``transport``, reached
through the wrappers of Starlette's middleware (closures over the next ``send``).
On anything else ``transport_of`` finds nothing and the caller ends its ASGI call,
leaving the server to close the connection its own way.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

__all__ = ["abort_connection", "close_connection", "transport_of"]

_RESET = struct.pack("ii", 1, 0)
"""``SO_LINGER`` on, zero seconds: closing resets the connection and drops unsent bytes."""
_MAX_WRAPPERS = 6


def transport_of(send: Any) -> asyncio.Transport | None:
    """The transport under an ASGI ``send``, or None where it cannot be found."""
    try:
        return _find(send, _MAX_WRAPPERS)
    except Exception:  # a server or wrapper of an unknown shape: nothing to abort
        return None


def _find(send: Any, depth: int) -> asyncio.Transport | None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if callable(getattr(transport, "abort", None)) and callable(
        getattr(transport, "is_closing", None)
    ):
        return transport
    if depth == 0:
        return None
    for cell in getattr(send, "__closure__", None) or ():
        inner = cell.cell_contents
        if callable(inner) and inner is not send:
            found = _find(inner, depth - 1)
            if found is not None:
                return found
    return None


def abort_connection(send: Any) -> bool:
    """Reset the connection under ``send`` now, dropping whatever it still buffers;
    False when no transport was found."""
    transport = transport_of(send)
    if transport is None:
        return False
    _reset(transport)
    return True


def close_connection(send: Any, linger: float) -> bool:
    """Close the connection under ``send`` once its buffered bytes are read, resetting it
    if that takes more than ``linger`` seconds; False when no transport was found."""
    transport = transport_of(send)
    if transport is None:
        return False
    if not transport.is_closing():
        transport.close()
    asyncio.get_running_loop().call_later(linger, _reset, transport)
    return True


def _reset(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, ValueError):  # already closed
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    transport.abort()
