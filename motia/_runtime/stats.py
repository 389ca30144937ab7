"""``Stats``: the app's counters for every live connection (logs, health, tests).

One object per app (``runtime.stats``, also ``runtime.hub.stats``), shared by
streamed HTTP responses, stream WebSockets, stream SSE subscriptions and the
console's live views, which all send through one bounded sender, and by whatever
refuses a request or a connection for passing a limit (``hit_<setting>``). The
runtime owns it so that it outlives any one connection.

Every slot is exported at ``/__motia/metrics`` as ``motia_<slot>``: a counter, or a
gauge when it is named in ``GAUGES``. Adding a counter is adding a slot.
"""

from __future__ import annotations

__all__ = ["GAUGES", "Stats"]

GAUGES = frozenset({"open_streams"})
"""The slots that go up and down; every other slot only counts up."""


class Stats:
    """What the app's connections counted."""

    __slots__ = (
        "dropped_writes",
        "hit_body_timeout",
        "hit_header_timeout",
        "hit_max_body_memory",
        "hit_max_body_size",
        "hit_max_connections",
        "hit_max_form_fields",
        "hit_max_header_size",
        "hit_max_headers",
        "hit_max_queue_depth",
        "hit_max_queue_lag",
        "invalid_messages",
        "open_streams",
        "oversized_messages",
        "refused_origins",
        "refused_subscriptions",
        "replay_evicted",
        "replay_evicted_bytes",
        "slow_closes",
        "stalled_closes",
    )

    def __init__(self) -> None:
        self.open_streams = 0
        """Streamed HTTP responses whose client is being watched."""
        self.slow_closes = 0
        """Connections ended because their client read too slowly."""
        self.stalled_closes = 0
        """Connections reset because a send waited longer than the send timeout."""
        self.dropped_writes = 0
        """Writes to a streamed response that had already ended."""
        self.invalid_messages = 0
        """Malformed stream subscriptions: WebSocket frames answered with ``INVALID_MESSAGE``,
        SSE requests answered with 400."""
        self.oversized_messages = 0
        """Stream WebSockets closed (1009) for a message over ``max_stream_message``."""
        self.refused_subscriptions = 0
        """Joins refused because their socket held ``max_subscriptions`` already."""
        self.refused_origins = 0
        """Stream subscriptions refused for their ``Origin`` (WebSocket or SSE)."""
        self.replay_evicted = 0
        """Stream messages dropped from the SSE replay buffers to keep within their bounds."""
        self.replay_evicted_bytes = 0
        """The bytes those dropped messages held."""
        self.hit_max_body_size = 0
        """Requests refused (413) for a body over ``max_body_size``."""
        self.hit_max_body_memory = 0
        """Requests refused (503) because the bodies in progress would pass their budget."""
        self.hit_max_form_fields = 0
        """Requests refused (413) for a form body with too many fields."""
        self.hit_max_headers = 0
        """Requests refused (431) for too many header lines."""
        self.hit_max_header_size = 0
        """Requests refused (431) for a head over ``max_header_size`` bytes."""
        self.hit_header_timeout = 0
        """Connections refused (408) for a head not sent in time."""
        self.hit_body_timeout = 0
        """Requests refused (408) for a body that stopped arriving."""
        self.hit_max_connections = 0
        """Connections refused (503) or closed to make room past ``max_connections``."""
        self.hit_max_queue_depth = 0
        """Enqueues refused (``QueueFull``, 503) to a topic with ``max_queue_depth`` waiting."""
        self.hit_max_queue_lag = 0
        """Enqueues refused to a topic whose oldest due message waited ``max_queue_lag``."""

    def hit(self, limit: str) -> None:
        """Count a request, connection or enqueue refused for passing ``Settings.<limit>``."""
        name = f"hit_{limit}"
        setattr(self, name, getattr(self, name) + 1)

    def values(self) -> dict[str, int]:
        """Every counter by name, as now."""
        return {name: getattr(self, name) for name in self.__slots__}
