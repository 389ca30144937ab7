"""``FailureStreak``: the log lines of a loop that keeps trying while something is down.

A loop that reads the queue every second would log the same failure every second for
as long as Redis is down. It logs the first failure of a run of them and the first
success after, and nothing in between. Losing Redis is an outage, not a bug: it is
one warning with the reason, without a traceback; any other failure keeps its traceback.
"""

from __future__ import annotations

import logging

__all__ = ["FailureStreak"]


class FailureStreak:
    """Logs to ``log`` when ``what`` starts failing and when it works again."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log = log
        self.what = what
        self.failing = False

    def failed(self, exc: Exception) -> None:
        if self.failing:
            return
        self.failing = True
        if isinstance(exc, ConnectionError):
            self.log.warning("%s failed, retrying until it works: %s", self.what, exc)
        else:
            self.log.exception("%s failed, retrying until it works", self.what)

    def succeeded(self) -> None:
        if self.failing:
            self.log.info("%s works again", self.what)
        self.failing = False
