"""``/__motia/metrics``: the app's metrics for Prometheus, kept from strangers.

A client on the loopback interface is answered; any other needs the metrics token
(``Authorization: Bearer <token>``) when one is set, and is refused otherwise.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from motia._core.hosts import is_loopback
from motia._runtime.lifespan import Runtime

__all__ = ["METRICS_PATH", "metrics_routes"]

METRICS_PATH = "/__motia/metrics"
_REFUSED = (
    "metrics are served to loopback clients only; set a metrics token "
    "(--metrics-token or Settings.metrics_token) to scrape from elsewhere\n"
)


def metrics_routes(runtime: Runtime) -> list[BaseRoute]:
    token = runtime.settings.metrics_token

    async def metrics(request: Request) -> Response:
        if not _from_loopback(request) and not _bears(request, token):
            status = 401 if token else 403
            return PlainTextResponse(_REFUSED if status == 403 else "bad token\n", status)
        body, content_type = await runtime.metrics_text(request.headers.get("accept", ""))
        return Response(body, headers={"content-type": content_type})

    return [Route(METRICS_PATH, metrics, methods=["GET"])]


def _from_loopback(request: Request) -> bool:
    return request.client is not None and is_loopback(request.client.host)


def _bears(request: Request, token: str | None) -> bool:
    given = request.headers.get("authorization", "")
    return token is not None and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
