"""Who may subscribe to streams: the connection's token, the app's ``stream_auth`` hook,
and each stream's ``on_join`` / ``on_leave`` hooks.

The token comes, in this order, from the WebSocket subprotocols a browser offers
(``Authorization, <token>``), the ``authToken`` query parameter, or an
``Authorization: Bearer <token>`` header. The ``stream_auth`` hook sees a
``StreamAuthRequest`` and returns the auth context handed to each stream's
``on_join``; raising ``StreamAuthError`` or returning ``False`` refuses the
connection. A token is never logged. With no ``stream_auth`` hook, every stream
without an ``on_join`` is readable by anyone: the app says so at startup.

Stream hooks are called as ``hook(subscription, ctx, auth_context)``, sync or
async. A sync hook runs on the event loop, so it must be quick. ``on_join``
refuses a subscription by returning ``{"unauthorized": True}``; a hook that
raises refuses it too (and is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.requests import HTTPConnection

from motia._core.tracing import new_trace_id
from motia._project.stream_config import StreamConfig
from motia._project.triggers import TriggerInfo
from motia._runtime.invoke import maybe_await
from motia._runtime.protocol import StepHost
from motia.exceptions import StreamAuthError

__all__ = [
    "AUTH_SUBPROTOCOL",
    "StreamAuthRequest",
    "StreamAuthResult",
    "StreamSubscription",
    "authenticate",
    "call_on_join",
    "call_on_leave",
    "extract_token",
    "offered_subprotocols",
    "warn_unprotected_streams",
]

log = logging.getLogger("motia.streams")
_TRIGGER = TriggerInfo(type="stream")

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

    @property
    def addr(self) -> str:
        """The client's ``host:port`` (Motia's name), or "" when unknown."""
        return "" if self.client is None else f"{self.client[0]}:{self.client[1]}"

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
    if isinstance(result, StreamAuthResult):
        return result.authorized, result.context
    return True, result


def warn_unprotected_streams(streams: Iterable[StreamConfig], stream_auth: Any) -> None:
    """Say at startup which streams anyone who reaches the server may read."""
    if stream_auth is not None:
        return
    unprotected = sorted(config.name for config in streams if config.on_join is None)
    if unprotected:
        log.warning(
            "stream(s) %s can be read by anyone who reaches this server: there is no "
            "stream_auth hook and they have no on_join (see Authentication in docs/streams.md)",
            ", ".join(unprotected),
        )


class StreamAuthResult(BaseModel):
    """What Motia's auth hooks return: ``authorized`` and the context ``on_join`` gets."""

    authorized: bool
    context: Any = None


@dataclass(frozen=True, slots=True)
class StreamSubscription:
    """One join: ``stream_name``, ``group_id``, ``item_id`` (None for a group) and the
    client-chosen ``subscription_id``; camelCase names work too."""

    stream_name: str
    group_id: str
    item_id: str | None
    subscription_id: str

    @property
    def id(self) -> str | None:
        return self.item_id

    # Motia's camelCase spellings, for hooks ported from TypeScript.
    @property
    def streamName(self) -> str:
        return self.stream_name

    @property
    def groupId(self) -> str:
        return self.group_id

    @property
    def itemId(self) -> str | None:
        return self.item_id

    @property
    def subscriptionId(self) -> str:
        return self.subscription_id

    def to_dict(self) -> dict[str, str | None]:
        return {
            "streamName": self.stream_name,
            "groupId": self.group_id,
            "id": self.item_id,
            "subscriptionId": self.subscription_id,
        }


async def call_on_join(
    runtime: StepHost, config: StreamConfig, subscription: StreamSubscription, auth: Any
) -> bool:
    """True when the subscription may go ahead."""
    if config.on_join is None:
        return True
    try:
        result = await _call(runtime, config, "on_join", subscription, auth)
    except Exception:
        log.exception("stream %r: on_join failed; subscription refused", config.name)
        return False
    return not _unauthorized(result)


async def call_on_leave(
    runtime: StepHost, config: StreamConfig, subscription: StreamSubscription, auth: Any
) -> None:
    if config.on_leave is None:
        return
    try:
        await _call(runtime, config, "on_leave", subscription, auth)
    except Exception:
        log.exception("stream %r: on_leave failed", config.name)


async def _call(
    runtime: StepHost,
    config: StreamConfig,
    hook_name: str,
    subscription: StreamSubscription,
    auth: Any,
) -> Any:
    hook = getattr(config, hook_name)
    ctx = runtime.context(f"{config.name}.{hook_name}", _TRIGGER, new_trace_id(), subscription)
    return await maybe_await(hook(subscription, ctx, auth))


def _unauthorized(result: Any) -> bool:
    if isinstance(result, Mapping):
        return bool(result.get("unauthorized"))
    return bool(getattr(result, "unauthorized", False))
