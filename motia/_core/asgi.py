"""ASGI type aliases and header helpers shared by the HTTP and stream endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["Receive", "Scope", "Send", "decode_headers", "encode_headers", "end_to_end"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def decode_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Names as given (ASGI servers lower-case them); repeated headers joined with ", "
    (cookies with "; ")."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
    if len(headers) == len(raw):
        return headers
    joined: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name, value = name_bytes.decode("latin-1"), value_bytes.decode("latin-1")
        if name in joined:
            value = joined[name] + ("; " if name == "cookie" else ", ") + value
        joined[name] = value
    return joined


_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
     "upgrade"}
)  # fmt: skip


def end_to_end(headers: dict[str, str]) -> dict[str, str]:
    """The headers without hop-by-hop ones, which only the server may set."""
    return {name: value for name, value in headers.items() if name not in _HOP_BY_HOP}
