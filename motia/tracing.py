"""Motia's ``motia.tracing``: spans of your own around work in a handler, with OpenTelemetry.

Works when the ``opentelemetry-api`` package is installed (``HAS_OTEL``); without it
the span helpers yield ``None`` and cost nothing, as in Motia's SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

try:
    from opentelemetry import propagate, trace
    from opentelemetry.trace import SpanKind, StatusCode

    HAS_OTEL = True
except ImportError:  # pragma: no cover - exercised where the API is absent
    HAS_OTEL = False

__all__ = [
    "HAS_OTEL",
    "get_trace_id_from_span",
    "get_tracer",
    "inject_context",
    "instrument_bridge",
    "operation_span",
    "record_exception",
    "set_span_ok",
    "step_span",
]


def get_tracer() -> Any:
    """The ``motia`` tracer, or None without OpenTelemetry."""
    return trace.get_tracer("motia") if HAS_OTEL else None


@contextmanager
def step_span(step_name: str, trigger_type: str, **attributes: Any) -> Iterator[Any]:
    """A SERVER span ``step:<name>`` with Motia's step attributes."""
    names = {"motia.step.name": step_name, "motia.trigger.type": trigger_type}
    with _span(f"step:{step_name}", "SERVER", {**names, **attributes}) as span:
        yield span


@contextmanager
def operation_span(operation: str, **attributes: Any) -> Iterator[Any]:
    """A CLIENT span for one operation (a call to another service, a query...)."""
    with _span(operation, "CLIENT", attributes) as span:
        yield span


@contextmanager
def _span(name: str, kind: str, attributes: dict[str, Any]) -> Iterator[Any]:
    tracer = get_tracer()
    if tracer is None:
        yield None
        return
    kept = {key: value for key, value in attributes.items() if value is not None}
    span_kind = getattr(SpanKind, kind)
    with tracer.start_as_current_span(name, kind=span_kind, attributes=kept) as span:
        yield span


def record_exception(span: Any, exc: BaseException) -> None:
    if span is not None and HAS_OTEL:
        span.set_status(StatusCode.ERROR, str(exc))
        span.record_exception(exc)


def set_span_ok(span: Any) -> None:
    if span is not None and HAS_OTEL:
        span.set_status(StatusCode.OK)


def get_trace_id_from_span() -> str | None:
    """The current span's trace id (32 hex digits), or None."""
    if not HAS_OTEL:
        return None
    trace_id = trace.get_current_span().get_span_context().trace_id
    return format(trace_id, "032x") if trace_id else None


def inject_context() -> dict[str, str]:
    """The current context as W3C ``traceparent``/``baggage`` headers, for outgoing calls."""
    carrier: dict[str, str] = {}
    if HAS_OTEL:
        propagate.inject(carrier)
    return carrier


def instrument_bridge(bridge_instance: Any) -> NoReturn:
    raise RuntimeError(
        "instrument_bridge(): there is no Motia engine bridge here; spans made with "
        "operation_span()/step_span() join the current OpenTelemetry context directly"
    )
