"""``LogFeed``: a logging handler that keeps recent lines and pushes new ones to viewers.

Attached to the ``motia`` logger while the console runs. Each record is
encoded to JSON once (tokens redacted, as in every log format), kept in a
bounded ring buffer (what a page that opens later sees first) and published to
the pages following the logs. Access lines stay in the terminal: the console
shows each request as its trace.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from typing import Any

from motia._core.json import dumps_lenient
from motia._core.spans import current_ids
from motia._runtime.logs import EXTRAS
from motia._runtime.redaction import redact
from motia.console.events import LiveView
from motia.sse import encode_event

__all__ = ["DEFAULT_HISTORY", "LogFeed", "log_entry"]

DEFAULT_HISTORY = 2000
ACCESS_LOGGER = "motia.access"


def log_entry(record: logging.LogRecord, seq: int) -> dict[str, Any]:
    """The JSON-ready form of one record, as the console shows it."""
    entry: dict[str, Any] = {
        "seq": seq,
        "time": record.created,
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key in EXTRAS:
        value = getattr(record, key, None)
        if value is not None:
            entry[key] = value
    ids = current_ids()
    if ids is not None:
        entry.setdefault("trace_id", ids[0])
        entry["span_id"] = ids[1]
    if record.exc_info and record.exc_info[0] is not None:
        entry["exc"] = logging.Formatter().formatException(record.exc_info)
    return entry


class LogFeed(logging.Handler):
    """Recent log lines (a ring buffer), each also published to the live view."""

    def __init__(self, view: LiveView, history: int = DEFAULT_HISTORY) -> None:
        super().__init__(logging.DEBUG)
        self.view = view
        self.lines: deque[tuple[str | None, str]] = deque(maxlen=history)
        self._seq = itertools.count(1)

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == ACCESS_LOGGER:
            return  # each request is a trace of its own in the console
        try:
            entry = log_entry(record, next(self._seq))
            text = redact(dumps_lenient(entry))
        except Exception:
            self.handleError(record)
            return
        self.lines.append((entry.get("trace_id"), text))
        self.view.publish(encode_event(text, event="log"))

    def restore(self, lines: list[tuple[str | None, str]], last_seq: int) -> None:
        """Start from ``lines`` an earlier run kept; new lines are numbered after ``last_seq``."""
        self.lines.extend(lines)
        self._seq = itertools.count(last_seq + 1)

    def note(self, level: int, message: str, logger: str = "motia.console") -> None:
        """A line of the console's own, shown in the Logs tab (not written to the terminal)."""
        self.emit(logging.makeLogRecord({"name": logger, "levelno": level,
                                         "levelname": logging.getLevelName(level),
                                         "msg": message}))  # fmt: skip

    def recent(self, trace_id: str | None = None) -> list[str]:
        """Encoded lines still in the buffer, oldest first; only ``trace_id``'s when given."""
        return [text for trace, text in tuple(self.lines) if trace_id in (None, trace)]
