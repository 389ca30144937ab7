"""``Stats``: the app's counters for every live connection (logs, health, tests).

One object per app (``runtime.stats``, also ``runtime.hub.stats``), shared by
streamed HTTP responses, stream WebSockets, stream SSE subscriptions and the
console's live views, which all send through one bounded sender. The runtime
owns it so that it outlives any one connection.

Every slot is exported at ``/__motia/metrics`` as ``motia_<slot>``: a counter, or a
gauge when it is named in ``GAUGES``. Adding a counter is adding a slot.
"""

from __future__ import annotations

__all__ = ["GAUGES", "Stats"]

GAUGES = frozenset({"open_streams"})
"""The slots that go up and down; every other slot only counts up."""


class Stats:
    """What the app's connections counted."""

    __slots__ = ("dropped_writes", "open_streams", "slow_closes")

    def __init__(self) -> None:
        self.open_streams = 0
        """Streamed HTTP responses whose client is being watched."""
        self.slow_closes = 0
        """Connections ended because their client read too slowly."""
        self.dropped_writes = 0
        """Writes to a streamed response that had already ended."""

    def values(self) -> dict[str, int]:
        """Every counter by name, as now."""
        return {name: getattr(self, name) for name in self.__slots__}
