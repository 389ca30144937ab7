"""Serving an app's routes from an existing Starlette or FastAPI app.

Starlette never runs a mounted sub-app's lifespan, so the routes are added to
the host's router (under a prefix) and the host's ``lifespan_context`` is
wrapped: the runtime starts inside the host's own lifespan (after its startup
handlers, with its state) and stops before the host's shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute

__all__ = ["mount_routes", "prefixed", "wrap_lifespan"]


def mount_routes(
    host: Starlette | Router,
    routes: list[BaseRoute],
    lifespan: Callable[[], AbstractAsyncContextManager[Any]],
    prefix: str = "",
) -> None:
    """Add ``routes`` under ``prefix`` to ``host`` and run ``lifespan`` inside the host's."""
    prefix = _clean(prefix)
    router = host.router if isinstance(host, Starlette) else host
    router.routes.extend(prefixed(route, prefix) for route in routes)
    wrap_lifespan(router, lifespan)


def wrap_lifespan(router: Router, lifespan: Callable[[], AbstractAsyncContextManager[Any]]) -> None:
    """Make ``router``'s lifespan enter ``lifespan()`` inside whatever it did before."""
    host_lifespan = router.lifespan_context

    @asynccontextmanager
    async def combined(app: Any) -> AsyncIterator[Any]:
        async with host_lifespan(app) as state, lifespan():
            yield state

    router.lifespan_context = combined


def prefixed(route: BaseRoute, prefix: str) -> BaseRoute:
    """``route`` answering under ``prefix`` (a route at ``/`` answers at the prefix itself)."""
    if not prefix:
        return route
    if isinstance(route, Route):
        return Route(
            _join(prefix, route.path),
            route.endpoint,
            methods=sorted(route.methods or ()) or None,
            name=route.name,
            include_in_schema=route.include_in_schema,
        )
    if isinstance(route, WebSocketRoute):
        return WebSocketRoute(_join(prefix, route.path), route.endpoint, name=route.name)
    return Mount(prefix, routes=[route])


def _clean(prefix: str) -> str:
    prefix = prefix.rstrip("/")
    if prefix and not prefix.startswith("/"):
        raise ValueError(f'prefix must start with "/", got {prefix!r}')
    return prefix


def _join(prefix: str, path: str) -> str:
    return prefix if path == "/" else prefix + path
