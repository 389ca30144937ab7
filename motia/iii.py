"""Motia's ``motia.iii`` import path. ``get_instance``/``init_iii`` hand out Motia's
engine client; this runtime has no engine, so they say what to use instead."""

from typing import Any, NoReturn

__all__ = ["get_instance", "init_iii"]

_INSTEAD = (
    "this runtime has no Motia engine to connect to: state, streams and queues are "
    "in-process. Use ctx.state / ctx.streams / ctx.enqueue in a handler (or the "
    "module-level stateManager, Stream(name), enqueue), and Motia(...).asgi() to serve"
)


def get_instance() -> NoReturn:
    raise RuntimeError(f"get_instance(): {_INSTEAD}")


def init_iii(otel_config: dict[str, Any] | None = None) -> NoReturn:
    raise RuntimeError(f"init_iii(): {_INSTEAD}; OpenTelemetry is configured as usual")
