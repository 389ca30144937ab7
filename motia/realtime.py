"""Stream subscriptions over WebSocket and SSE (PROTOCOL.md)."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

__all__ = ["stream_routes"]


def stream_routes(runtime: Any) -> list[BaseRoute]:
    return []
