"""The Logs tab across dev reloads: the lines of the last run, kept in ``.motia/``.

A dev reload starts a fresh process, and with it an empty ``LogFeed``. At
shutdown the console writes its lines to ``.motia/console-log.jsonl`` (owner
only), headed by the reloading supervisor's process id; the next process of the
same ``motia dev`` reads them back, notes the restart, and goes on numbering.
A file left by another ``motia dev`` (another supervisor) is ignored.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from motia.console.log_feed import LogFeed

__all__ = ["HISTORY_FILE", "load_history", "save_history"]

HISTORY_FILE = Path(".motia") / "console-log.jsonl"


def save_history(feed: LogFeed, path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    header = json.dumps({"supervisor": os.getppid()})
    text = "\n".join([header, *(line for _, line in tuple(feed.lines))]) + "\n"
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(partial, path)


def load_history(feed: LogFeed, path: Path) -> None:
    """Start ``feed`` from the lines the previous process of this ``motia dev`` kept."""
    try:
        header, *texts = path.read_text(encoding="utf-8").splitlines()
        if json.loads(header).get("supervisor") != os.getppid():
            return
    except (OSError, ValueError, AttributeError):
        return
    lines, last_seq = [], 0
    for text in texts[-(feed.lines.maxlen or len(texts)) :]:
        try:
            entry = json.loads(text)
        except ValueError:
            continue
        lines.append((entry.get("trace_id"), text))
        last_seq = max(last_seq, int(entry.get("seq", 0)))
    if lines:
        feed.restore(lines, last_seq)
        feed.note(logging.INFO, "app restarted: the lines above are from before the reload")
