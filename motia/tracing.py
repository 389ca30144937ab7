"""Motia's ``motia.tracing``: spans of your own around work in a handler, with OpenTelemetry.

Works when the ``opentelemetry-api`` package is installed (``HAS_OTEL``); without it
the span helpers yield ``None`` and cost nothing, as in Motia's SDK.

``instrument_bridge`` makes an engine client carry W3C trace context in its messages,
as Motia's SDK does for its engine connection: the ``traceparent``/``baggage`` of a
function invocation that arrives become the parent of the next ``step_span``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

try:
    from opentelemetry import propagate, trace
    from opentelemetry.trace import SpanKind, StatusCode

    HAS_OTEL = True
except ImportError:  # pragma: no cover - exercised where the API is absent
    HAS_OTEL = False

__all__ = [
    "HAS_OTEL",
    "extract_parent_context",
    "get_trace_id_from_span",
    "get_tracer",
    "inject_context",
    "instrument_bridge",
    "operation_span",
    "record_exception",
    "set_span_ok",
    "step_span",
]

log = logging.getLogger("motia.tracing")
_INVOCATION = "invokefunction"
"""The engine message type that runs a function: the one that carries trace context."""

_incoming_traceparent: ContextVar[str | None] = ContextVar(
    "motia_incoming_traceparent", default=None
)
_incoming_baggage: ContextVar[str | None] = ContextVar("motia_incoming_baggage", default=None)
_instrumented_bridges: set[int] = set()
"""The ids of the clients ``instrument_bridge`` has patched (each is patched once)."""


def get_tracer() -> Any:
    """The ``motia`` tracer, or None without OpenTelemetry."""
    return trace.get_tracer("motia") if HAS_OTEL else None


@contextmanager
def step_span(step_name: str, trigger_type: str, **attributes: Any) -> Iterator[Any]:
    """A SERVER span ``step:<name>`` with Motia's step attributes, the child of the
    trace context the current function invocation arrived with, if any."""
    names = {"motia.step.name": step_name, "motia.trigger.type": trigger_type}
    parent = extract_parent_context(_incoming_traceparent.get(), _incoming_baggage.get())
    with _span(f"step:{step_name}", "SERVER", {**names, **attributes}, parent) as span:
        yield span


@contextmanager
def operation_span(operation: str, **attributes: Any) -> Iterator[Any]:
    """A CLIENT span for one operation (a call to another service, a query...)."""
    with _span(operation, "CLIENT", attributes) as span:
        yield span


@contextmanager
def _span(name: str, kind: str, attributes: dict[str, Any], parent: Any = None) -> Iterator[Any]:
    tracer = get_tracer()
    if tracer is None:
        yield None
        return
    kept = {key: value for key, value in attributes.items() if value is not None}
    span_kind = getattr(SpanKind, kind)
    with tracer.start_as_current_span(
        name, context=parent, kind=span_kind, attributes=kept
    ) as span:
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


def extract_parent_context(traceparent: str | None, baggage: str | None = None) -> Any:
    """The OpenTelemetry context a W3C ``traceparent`` (and ``baggage``) names, or None."""
    if not HAS_OTEL or not traceparent:
        return None
    carrier = {"traceparent": traceparent}
    if baggage:
        carrier["baggage"] = baggage
    return propagate.extract(carrier)


def instrument_bridge(bridge_instance: Any) -> None:
    """Make an engine client carry trace context (once per client; no-op without OTel).

    The client's ``_to_dict(message)`` gains the current ``traceparent``/``baggage`` on
    function invocations it sends; its async ``_handle_message(raw)`` records those of
    an invocation it receives, for the ``step_span`` that runs it. A client without
    messages (``get_instance()`` here) is left as it is.
    """
    if not HAS_OTEL or id(bridge_instance) in _instrumented_bridges:
        return
    if not hasattr(bridge_instance, "_to_dict"):
        return  # a client that exchanges no messages, as this process's own
    _instrumented_bridges.add(id(bridge_instance))
    bridge_instance._to_dict = _sending_context(bridge_instance._to_dict)
    bridge_instance._handle_message = _receiving_context(bridge_instance._handle_message)
    log.debug("engine client %r carries trace context", type(bridge_instance).__name__)


def _message_type(message: dict[str, Any]) -> Any:
    kind = message.get("type")
    return getattr(kind, "value", kind)


def _sending_context(to_dict: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def with_context(message: Any) -> dict[str, Any]:
        data = to_dict(message)
        if _message_type(data) == _INVOCATION:
            context = inject_context()
            data.update({key: context[key] for key in ("traceparent", "baggage") if key in context})
        return data

    return with_context


def _receiving_context(handle: Callable[[Any], Any]) -> Callable[[Any], Any]:
    async def with_context(raw: str | bytes) -> None:
        data = json.loads(raw)
        if isinstance(data, dict) and _message_type(data) == _INVOCATION:
            _incoming_traceparent.set(data.get("traceparent"))
            _incoming_baggage.set(data.get("baggage"))
        await handle(raw)

    return with_context
