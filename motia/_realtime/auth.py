"""Who may subscribe to streams: the connection's token and the app's ``stream_auth`` hook.

The token comes, in this order, from the WebSocket subprotocols a browser offers
(``Authorization, <token>``), the ``authToken`` query parameter, or an
``Authorization: Bearer <token>`` header. The hook sees a ``StreamAuthRequest``
and returns the auth context handed to each stream's ``on_join``; raising
``StreamAuthError`` or returning ``False`` refuses the connection. A token is
never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from motia._runtime.invoke import maybe_await
from motia.exceptions import StreamAuthError

__all__ = [
    "AUTH_SUBPROTOCOL",
    "StreamAuthRequest",
    "authenticate",
    "extract_token",
    "offered_subprotocols",
]

log = logging.getLogger("motia.streams")

AUTH_SUBPROTOCOL = "Authorization"


@dataclass(frozen=True, slots=True)
class StreamAuthRequest:
    """What the ``stream_auth`` hook sees of a WebSocket or SSE connection."""

    # Headers and query parameters may carry the token: kept out of the repr.
    headers: dict[str, str] = field(repr=False)
    path: str
    query_params: dict[str, str] = field(repr=False)
    client: tuple[str, int] | None
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_connection(cls, connection: HTTPConnection) -> StreamAuthRequest:
        headers = {key.lower(): value for key, value in connection.headers.items()}
        query = dict(connection.query_params)
        client = connection.client
        return cls(
            headers=headers,
            path=connection.url.path,
            query_params=query,
            client=None if client is None else (client.host, client.port),
            token=extract_token(headers, query),
        )


def offered_subprotocols(headers: Mapping[str, str]) -> list[str]:
    raw = headers.get("sec-websocket-protocol", "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def extract_token(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    offered = offered_subprotocols(headers)
    if len(offered) >= 2 and offered[0] == AUTH_SUBPROTOCOL:
        return offered[1]
    if query.get("authToken"):
        return query["authToken"]
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


async def authenticate(hook: Any, request: StreamAuthRequest) -> tuple[bool, Any]:
    """``(allowed, auth_context)``; with no hook everyone is allowed with context None."""
    if hook is None:
        return True, None
    try:
        result = await maybe_await(hook(request))
    except StreamAuthError:
        return False, None
    except Exception as exc:
        # The exception text may quote the token: log its type only.
        log.error("stream_auth hook failed with %s; connection refused", type(exc).__name__)
        return False, None
    if result is False:
        return False, None
    return True, result
