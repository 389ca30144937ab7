"""Counters of every bounded sender of an app, for logs, health and tests.

One object per app (``runtime.hub.stats``), shared by stream WebSockets, stream
SSE subscriptions and the console's live views, which all follow one policy.
"""

from __future__ import annotations

__all__ = ["SendStats"]


class SendStats:
    """What the app's bounded senders counted."""

    __slots__ = ("slow_closes",)

    def __init__(self) -> None:
        self.slow_closes = 0
        """Connections ended because their client read too slowly."""
