"""``StreamHost``: what stream subscriptions need from the runtime, beyond any step host.

WebSocket and SSE subscribers join the runtime's ``Hub``, are admitted by its
``stream_auth`` hook, and run the stream's ``on_join``/``on_leave`` hooks with a
context the host makes. The app's ``Runtime`` satisfies this protocol.
"""

from __future__ import annotations

from typing import Any, Protocol

from motia._runtime.hub import Hub
from motia._runtime.protocol import StepHost

__all__ = ["StreamHost"]


class StreamHost(StepHost, Protocol):
    """A step host that also owns the subscriptions hub and the ``stream_auth`` hook."""

    hub: Hub
    stream_auth: Any
    """``fn(StreamAuthRequest)``, sync or async, or None to admit everyone."""
