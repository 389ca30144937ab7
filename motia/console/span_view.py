"""``SpanView``: the console's copy of the app's finished spans, for the trace waterfall.

A span processor on the app's tracer provider, so the console draws the very spans
the exporters send. It keeps the most recent ``max_traces`` traces, at most
``max_spans`` spans each: a busy app cannot make the console hold more.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["MAX_SPANS", "MAX_TRACES", "SpanView"]

MAX_TRACES = 200
MAX_SPANS = 500


class SpanView:
    """Recent traces by id, each a list of span summaries (JSON-ready)."""

    def __init__(self, max_traces: int = MAX_TRACES, max_spans: int = MAX_SPANS) -> None:
        self.max_traces = max_traces
        self.max_spans = max_spans
        self.traces: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()  # exporters' threads and the loop both end spans

    # -- the span processor interface (opentelemetry.sdk.trace.SpanProcessor) ----------

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        pass

    def _on_ending(self, span: Any) -> None:
        pass

    def on_end(self, span: Any) -> None:
        summary = span_summary(span)
        with self._lock:
            spans = self.traces.pop(summary["trace_id"], [])
            if len(spans) < self.max_spans:
                spans.append(summary)
            self.traces[summary["trace_id"]] = spans
            while len(self.traces) > self.max_traces:
                self.traces.popitem(last=False)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    # -- what the pages read ----------------------------------------------------------

    def recent(self) -> list[dict[str, Any]]:
        """One line per trace, newest first: its root span, length, size and outcome."""
        with self._lock:
            traces = list(self.traces.items())
        return [_trace_line(trace_id, spans) for trace_id, spans in reversed(traces)]

    def spans(self, trace_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return sorted(self.traces.get(trace_id, ()), key=lambda span: span["start"])

    async def list_route(self, request: Request) -> Response:
        return JSONResponse(self.recent())

    async def trace_route(self, request: Request) -> Response:
        trace_id = request.path_params["trace_id"]
        return JSONResponse({"trace_id": trace_id, "spans": self.spans(trace_id)})


def span_summary(span: Any) -> dict[str, Any]:
    context, parent = span.context, span.parent
    return {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_id": f"{parent.span_id:016x}" if parent is not None else None,
        "name": span.name,
        "kind": span.kind.name.lower(),
        "start": span.start_time / 1e9,
        "end": span.end_time / 1e9,
        "status": span.status.status_code.name.lower(),
        "error": span.status.description,
        "attributes": {key: _plain(value) for key, value in (span.attributes or {}).items()},
    }


def _trace_line(trace_id: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    ids = {span["span_id"] for span in spans}
    root = min(
        spans, key=lambda span: (span["parent_id"] in ids, span["start"])
    )  # the earliest span whose parent is not here
    return {
        "trace_id": trace_id,
        "root": root["name"],
        "start": min(span["start"] for span in spans),
        "duration_ms": (max(s["end"] for s in spans) - min(s["start"] for s in spans)) * 1000,
        "spans": len(spans),
        "errors": sum(span["status"] == "error" for span in spans),
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
