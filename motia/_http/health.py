"""Health and readiness endpoints for load balancers and orchestrators.

``/__motia/health`` answers 200 whenever the process serves HTTP (liveness).
``/__motia/ready`` answers 200 once the app has started and every shared
backend it uses answers, else 503: a load balancer stops sending traffic to a
process that cannot reach Redis, or that is shutting down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from motia._http.response import JSONResponse

if TYPE_CHECKING:
    from motia._runtime.lifespan import Runtime

__all__ = ["HEALTH_PATH", "READY_PATH", "Probe", "health_routes", "is_ready"]

HEALTH_PATH = "/__motia/health"
READY_PATH = "/__motia/ready"


@runtime_checkable
class Probe(Protocol):
    """A backend that can tell whether it is reachable right now."""

    async def ping(self) -> bool: ...


async def is_ready(runtime: Runtime) -> bool:
    if not runtime.started:
        return False
    backends = (runtime.store, getattr(runtime.queues, "backend", None))
    for backend in backends:
        if isinstance(backend, Probe) and not await backend.ping():
            return False
    return True


def health_routes(runtime: Runtime) -> list[BaseRoute]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> JSONResponse:
        if await is_ready(runtime):
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    return [
        Route(HEALTH_PATH, health, methods=["GET", "HEAD"]),
        Route(READY_PATH, ready, methods=["GET", "HEAD"]),
    ]
