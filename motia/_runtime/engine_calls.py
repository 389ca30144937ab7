"""One call through Motia's engine client, as Motia's SDK makes it.

``motia.state``, ``motia.streams`` and ``motia.enqueue`` send each call as a trigger
request (``{"function_id": "state::get", "payload": {...}}``) to the client that
``get_instance()`` returns, inside a client span named after the function id. The
client of this process (``LocalEngine``) runs the call on the app, whose store calls
are spanned already, so it gets no second span. A caller that awaits the call gets
the async call instead, which never blocks its loop.
"""

from __future__ import annotations

from typing import Any

from motia._runtime.local_engine import LocalEngine
from motia.tracing import operation_span, record_exception, set_span_ok

__all__ = ["call_engine"]

_SPAN_ATTRIBUTES = {
    "state": (("scope", "motia.state.scope"), ("key", "motia.state.key")),
    "stream": (
        ("stream_name", "motia.stream.name"),
        ("group_id", "motia.stream.group_id"),
        ("item_id", "motia.stream.item_id"),
    ),
}
"""Which payload fields a span carries, by the function id's namespace, as Motia names them."""


def call_engine(client: Any, function_id: str, payload: dict[str, Any], *, awaited: bool) -> Any:
    request = {"function_id": function_id, "payload": payload}
    if isinstance(client, LocalEngine):
        return client.trigger_async(request) if awaited else client.trigger(request)
    with operation_span(function_id, **_span_attributes(function_id, payload)) as span:
        try:
            result = client.trigger(request)
        except Exception as exc:
            record_exception(span, exc)
            raise
        set_span_ok(span)
        return result


def _span_attributes(function_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    if function_id == "enqueue":
        return {"motia.step.name": ""}
    fields = _SPAN_ATTRIBUTES.get(function_id.partition("::")[0], ())
    return {name: payload.get(field) for field, name in fields}
