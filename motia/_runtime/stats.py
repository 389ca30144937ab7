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
        "open_streams",
        "replay_evicted",
        "replay_evicted_bytes",
        "slow_closes",
    )

    def __init__(self) -> None:
        self.open_streams = 0
        """Streamed HTTP responses whose client is being watched."""
        self.slow_closes = 0
        """Connections ended because their client read too slowly."""
        self.dropped_writes = 0
        """Writes to a streamed response that had already ended."""
        self.replay_evicted = 0
        """Stream messages dropped from the SSE replay buffers to keep within their bounds."""
        self.replay_evicted_bytes = 0
        """The bytes those dropped messages held."""
