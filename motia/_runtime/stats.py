"""``Stats``: the app's counters for every live connection (logs, health, tests).

One object per app (``runtime.stats``, also ``runtime.hub.stats``), shared by
streamed HTTP responses, stream WebSockets, stream SSE subscriptions and the
console's live views, which all send through one bounded sender, and by whatever
refuses a request or a connection for passing a limit. The runtime owns it so that
it outlives any one connection.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["Stats"]


class Stats:
    """What the app's connections counted."""

    __slots__ = ("dropped_writes", "limits_hit", "open_streams", "slow_closes")

    def __init__(self) -> None:
        self.open_streams = 0
        """Streamed HTTP responses whose client is being watched."""
        self.slow_closes = 0
        """Connections ended because their client read too slowly."""
        self.dropped_writes = 0
        """Writes to a streamed response that had already ended."""
        self.limits_hit: Counter[str] = Counter()
        """Requests and connections refused, by the ``Settings`` field they passed."""
