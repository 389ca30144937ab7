"""``MotiaStarlette``: the Starlette app ``Motia.asgi()`` returns.

A request for a step on a fixed path (no path parameters), a stream WebSocket and
a stream event subscription go straight to their endpoint, skipping Starlette's
error middleware (and, but for the subscription, its route scan): the endpoint
answers every error itself, and the stream endpoints get the server's own ``send``
(see ``frame_writer`` and ``chunk_writer``). With an ``AccessLog``,
each HTTP request is logged once its response has ended. The composer hands over
the stream endpoints as plain ASGI apps, so HTTP needs nothing of real time. Any
route listed earlier keeps its precedence, and once a user adds middleware
every request takes the usual path, so the middleware sees all of them. The app
carries its host (settings, counters) for the server protocol that enforces the
limits an app cannot (``server_protocol``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute
from starlette.types import ASGIApp

from motia._core.asgi import Receive, Scope, Send
from motia._http.access_log import AccessLog
from motia._http.endpoint import StepEndpoint
from motia._http.host import HttpHost

__all__ = ["MotiaStarlette", "direct_routes"]


class MotiaStarlette(Starlette):
    def __init__(
        self,
        *,
        routes: Sequence[BaseRoute],
        stream_socket: ASGIApp | None = None,
        stream_events: ASGIApp | None = None,
        http_host: HttpHost | None = None,
        access_log: AccessLog | None = None,
        **options: Any,
    ) -> None:
        super().__init__(routes=routes, **options)
        self.http_host = http_host
        self._direct = direct_routes(routes, stream_socket)
        self._events = stream_events
        self._access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._access_log is not None and scope["type"] == "http":
            await self._access_log.serve(scope, receive, send, self._dispatch)
        else:
            await self._dispatch(scope, receive, send)

    # The app that answers is awaited here, not in a coroutine of its own: a streaming
    # handler's every wake-up passes through each coroutine level of the chain.
    def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        kind = scope["type"]
        if kind != "lifespan" and not self.user_middleware and not scope.get("root_path"):
            method = scope["method"] if kind == "http" else "WEBSOCKET"
            endpoint = self._direct.get((method, scope["path"]))
            if endpoint is None and kind == "http" and scope["path"].startswith("/streams/"):
                endpoint = self._routed_events(scope)
            if endpoint is not None:
                scope["app"] = self
                return endpoint(scope, receive, send)
        return super().__call__(scope, receive, send)

    def _routed_events(self, scope: Scope) -> ASGIApp | None:
        """The stream event endpoint, its path parameters set in ``scope``, when it is
        the route the router would pick."""
        for route in self.router.routes:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                if self._events is None or getattr(route, "app", None) is not self._events:
                    return None
                scope.update(child_scope)
                return self._events
        return None


def direct_routes(
    routes: Sequence[BaseRoute], stream_socket: ASGIApp | None = None
) -> dict[tuple[str, str], ASGIApp]:
    """(method, path) -> app for the fixed-path step routes and ``stream_socket`` routes
    the router would pick; a WebSocket's method is ``WEBSOCKET``."""
    first: dict[tuple[str, str], ASGIApp] = {}
    for route in routes:
        if isinstance(route, Route) and "{" not in route.path:
            for method in route.methods or ():
                first.setdefault((method, route.path), route.app)
        elif isinstance(route, WebSocketRoute) and "{" not in route.path:
            first.setdefault(("WEBSOCKET", route.path), route.app)
    return {
        key: app
        for key, app in first.items()
        if isinstance(app, StepEndpoint) or app is stream_socket
    }
