"""Motia's ``motia.iii``: ``get_instance``/``init_iii`` hand out the engine client.

In Motia the client talks to an iii engine process; here it is this process's
``LocalEngine``: the engine's own calls (``state::*``, ``stream::*``, ``enqueue``) act
on the app running the current handler, and registered functions are called by id.
"""

from __future__ import annotations

import logging
from typing import Any

from motia._runtime.local_engine import LocalEngine

__all__ = ["get_instance", "init_iii"]

log = logging.getLogger("motia.iii")
_instance = LocalEngine()


def get_instance() -> LocalEngine:
    """The engine client of this process (one, made at import)."""
    return _instance


def init_iii(otel_config: dict[str, Any] | None = None) -> LocalEngine:
    """The same client: there is no engine to connect to. OpenTelemetry is configured
    by the app (``OTEL_*`` variables or a tracer provider), not by ``otel_config``."""
    if otel_config:
        log.info("init_iii(): otel_config is not used here; the app configures OpenTelemetry")
    return _instance
