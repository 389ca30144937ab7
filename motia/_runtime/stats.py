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

    __slots__ = ("dropped_writes", "open_streams", "slow_closes", "stalled_closes")

    def __init__(self) -> None:
        self.open_streams = 0
        """Streamed HTTP responses whose client is being watched."""
        self.slow_closes = 0
        """Connections ended because their client read too slowly."""
        self.stalled_closes = 0
        """Connections reset because a send waited longer than the send timeout."""
        self.dropped_writes = 0
        """Writes to a streamed response that had already ended."""
