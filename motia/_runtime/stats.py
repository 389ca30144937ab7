"""``StreamStats``: the app's counters for streaming responses (logs, health, tests).

The runtime owns them so that they outlive any one response, and so that other
counters can join them here.
"""

from __future__ import annotations

__all__ = ["StreamStats"]


class StreamStats:
    """Counters shared by every response of an app."""

    def __init__(self) -> None:
        self.open_streams = 0
        self.slow_client_closes = 0
        self.dropped_writes = 0
