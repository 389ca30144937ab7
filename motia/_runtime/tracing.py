"""Trace ids moved to ``motia._core.tracing``, where the queues can import them too.

Kept for the modules that still import them from here (``motia._http.endpoint``,
``motia._realtime.hooks``); delete once those import ``motia._core.tracing``.
"""

from motia._core.tracing import new_trace_id, trace_id_from

__all__ = ["new_trace_id", "trace_id_from"]
