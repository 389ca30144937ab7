"""Stream subscriptions over WebSocket and SSE (PROTOCOL.md): the routes.

The WebSocket endpoint answers on ``/`` and ``/streams`` (the official clients
take a full URL); SSE subscriptions on ``/streams/<name>/<group>[/<id>]``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, WebSocketRoute

from motia._realtime.host import StreamHost
from motia._realtime.sse_subscriptions import StreamEvents
from motia._realtime.websocket import StreamSocket

__all__ = ["stream_routes"]


def stream_routes(runtime: StreamHost) -> list[BaseRoute]:
    socket = StreamSocket(runtime)
    events = StreamEvents(runtime)
    return [
        WebSocketRoute("/", socket),
        WebSocketRoute("/streams", socket),
        Route("/streams/{stream_name}/{group_id}", events, methods=["GET"]),
        Route("/streams/{stream_name}/{group_id}/{item_id}", events, methods=["GET"]),
    ]
