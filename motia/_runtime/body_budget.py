"""``BodyBudget``: the bytes of request bodies that requests in progress hold, together.

One per app (``runtime.body_budget``): each request takes what it reads and gives it
back when it ends, so many clients each sending a large body cannot, together, take
more memory than ``Settings.max_body_memory``.
"""

from __future__ import annotations

__all__ = ["BodyBudget"]


class BodyBudget:
    __slots__ = ("held", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        """Hold ``size`` more bytes, unless that would pass the limit."""
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size
