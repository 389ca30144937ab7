"""ASGI type aliases, and reading request headers, shared by the HTTP and stream endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["Receive", "Scope", "Send", "decode_headers"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


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
