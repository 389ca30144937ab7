"""``Stats``: the app's counters for every live connection (logs, health, tests).

One object per app (``runtime.stats``, also ``runtime.hub.stats``), shared by
streamed HTTP responses, stream WebSockets, stream SSE subscriptions and the
console's live views, which all send through one bounded sender. The runtime
owns it so that it outlives any one connection.
"""

from __future__ import annotations

__all__ = ["Stats"]


class Stats:
    """What the app's connections counted."""

    __slots__ = (
        "dropped_writes",
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
        """Stream WebSocket messages answered with ``INVALID_MESSAGE``."""
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
