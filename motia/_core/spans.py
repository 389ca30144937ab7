"""OpenTelemetry spans, named as Motia 1.0 names them; nothing at all when tracing is off.

``tracing_for`` decides once, when an app is built, whether it traces: only with a
real tracer provider (one given, one already installed globally, or one made from the
``OTEL_*`` variables, see ``otel_config``). Otherwise it returns None and every caller
skips its span with one ``is None`` test: with the API package alone, or none, tracing
costs nothing.

Context travels as a W3C ``traceparent`` string: in HTTP headers, and stored with each
queue delivery, so a queue step's span is the child of the ``enqueue`` span that sent
its message, in this process or another one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

try:
    from opentelemetry import trace
    from opentelemetry.trace import Span, SpanKind, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    HAS_API = True
except ImportError:  # pragma: no cover - exercised where the API is absent
    HAS_API = False

__all__ = ["NO_SPAN", "Tracing", "asks_for_traces", "current_ids", "tracing_for"]

log = logging.getLogger("motia.tracing")
_ASKS_FOR_TRACES = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)

_TRACER_NAME = "motia"
NO_SPAN: AbstractContextManager[None] = nullcontext()
"""What a caller enters instead of a span when tracing is off (reusable, costs nothing)."""


def tracing_for(provider: Any = None) -> Tracing | None:
    """Spans from ``provider``, else from the one installed or configured (``otel_config``)."""
    if not HAS_API:
        if provider is not None or asks_for_traces():
            log.warning(
                "traces were asked for, but OpenTelemetry is not installed: "
                "pip install 'motia-asgi[otel]'"
            )
        return None
    if provider is None:
        from motia._core.otel_config import configured_provider

        provider = configured_provider()
    if provider is None:
        return None
    return Tracing(provider.get_tracer(_TRACER_NAME), provider)


def asks_for_traces() -> bool:
    """Whether the ``OTEL_*`` variables ask for traces to be exported."""
    return any(os.environ.get(name) for name in _ASKS_FOR_TRACES)


def current_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids in hex (for log lines), if one is recording."""
    if not HAS_API:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


class Tracing:
    """One app's tracer and the spans the runtime opens with it."""

    def __init__(self, tracer: Any, provider: Any = None) -> None:
        self.tracer = tracer
        self.provider = provider
        self.propagator = TraceContextTextMapPropagator()

    @contextmanager
    def request(
        self, step: str, method: str, route: str, path: str, headers: Mapping[str, str]
    ) -> Iterator[Span]:
        """``step:<name>`` for one HTTP request: the server span and the step's run in one
        (a span costs tens of microseconds), the child of the request's ``traceparent``."""
        parent = self.propagator.extract(headers) if "traceparent" in headers else None
        attributes = {
            "motia.step.name": step,
            "motia.trigger.type": "http",
            "http.request.method": method,
            "http.route": route,
            "url.path": path,
        }
        with self.tracer.start_as_current_span(
            f"step:{step}", context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            yield span

    @contextmanager
    def step(self, step: str, trigger: str, traceparent: str | None = None) -> Iterator[Span]:
        """``step:<name>``, one run of a step; a stored ``traceparent`` names its parent."""
        parent = self.propagator.extract({"traceparent": traceparent}) if traceparent else None
        kind = SpanKind.CONSUMER if trigger == "queue" else SpanKind.INTERNAL
        attributes = {"motia.step.name": step, "motia.trigger.type": trigger}
        with self.tracer.start_as_current_span(
            f"step:{step}", context=parent, kind=kind, attributes=attributes
        ) as span:
            yield span

    @contextmanager
    def operation(self, name: str, attributes: Mapping[str, str | None]) -> Iterator[Span]:
        """A client span for a state, stream or enqueue call (``state::set``, ``enqueue``...)."""
        kept = {key: value for key, value in attributes.items() if value is not None}
        with self.tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=kept) as span:
            yield span

    def traceparent(self) -> str | None:
        """The current span as a W3C ``traceparent`` value."""
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier)
        return carrier.get("traceparent")

    @staticmethod
    def failed(error: BaseException) -> None:
        """Mark the current span as failed by ``error``."""
        span = trace.get_current_span()
        span.record_exception(error)
        span.set_status(StatusCode.ERROR, f"{type(error).__name__}: {error}")

    @staticmethod
    def set_error(span: Span, description: str) -> None:
        """Mark ``span`` failed, unless it already says why (the handler's exception)."""
        status = getattr(span, "status", None)
        if status is None or status.status_code is not StatusCode.ERROR:
            span.set_status(StatusCode.ERROR, description)

    @staticmethod
    def trace_id(span: Span) -> str:
        return f"{span.get_span_context().trace_id:032x}"
