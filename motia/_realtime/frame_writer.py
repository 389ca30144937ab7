"""Writing a ready-made WebSocket text frame straight to uvicorn's transport.

A stream broadcast sends the same text to every subscriber. Through ASGI each
``websocket.send`` is framed again and passes two coroutines per socket; on
uvicorn's default WebSocket protocol (websockets-sansio) a server text frame
is plain bytes that need no per-connection state unless an extension (such
as permessage-deflate) was negotiated. So the frame is built once per message
and written to each transport directly, as long as the connection is open,
uncompressed and keeping up; whenever one of those does not hold,
``write_frame`` declines and the message takes the ASGI ``send`` as usual.
"""

from __future__ import annotations

import asyncio
from typing import cast

__all__ = ["frame_transport", "text_frame", "write_frame"]

_FIN_TEXT = 0x81


def text_frame(text: str) -> bytes:
    """An unmasked, final text frame (RFC 6455 section 5.2) carrying ``text``."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = bytes((_FIN_TEXT, size))
    elif size < 1 << 16:
        head = bytes((_FIN_TEXT, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((_FIN_TEXT, 127)) + size.to_bytes(8, "big")
    return head + payload


def frame_transport(send: object) -> asyncio.WriteTransport | None:
    """The transport of the connection behind ``send`` when it takes ready-made frames:
    an open, uncompressed connection of uvicorn's websockets-sansio protocol.

    This reads uvicorn's private attributes, so it declines (None: the ASGI ``send``
    is used) on anything it does not recognise: another server or protocol class,
    ``send`` wrapped by middleware, an attribute missing, renamed or of another kind.
    uvicorn closes the transport in the same callback in which the connection leaves
    the open state, except when the app itself sends ``websocket.close``: the caller
    must stop writing frames before it does.
    """
    try:
        return _sansio_transport(send)
    except Exception:  # uvicorn's internals changed shape: the ASGI send still works
        return None


def _sansio_transport(send: object) -> asyncio.WriteTransport | None:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
        from websockets.protocol import OPEN
    except ImportError:
        return None
    protocol = getattr(send, "__self__", None)
    if type(protocol) is not WebSocketsSansIOProtocol:
        return None
    connection = getattr(protocol, "conn", None)
    if getattr(connection, "state", None) is not OPEN:
        return None
    if getattr(connection, "extensions", None) != []:
        return None  # compression (or something unknown): frames depend on the connection
    if getattr(protocol, "close_sent", None) is not False:
        return None  # a frame after the close frame would break the protocol
    transport = getattr(protocol, "transport", None)
    if not all(callable(getattr(transport, name, None)) for name in _TRANSPORT_METHODS):
        return None
    return cast(asyncio.WriteTransport, transport)


_TRANSPORT_METHODS = ("write", "get_write_buffer_size", "is_closing")


def write_frame(transport: asyncio.WriteTransport, frame: bytes) -> bool:
    """Write ``frame`` unless the transport's buffer holds anything (the client is not
    keeping up, or uvicorn queued something that must go first) or it is closing."""
    if transport.get_write_buffer_size() or transport.is_closing():
        return False
    transport.write(frame)
    return True
