"""Dead letters of a project's queue, listed and replayed without running the app.

These work on the SQLite file directly (``.motia/motia.db`` under the
project), so they are safe to use while the app is serving: a replayed
message is picked up by the running workers within their idle poll.
A running app offers the same through ``Motia(...).runtime.queues``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from motia.backends.queue import DeadLetter
from motia.backends.sqlite_queue import connect, sql_dead_letters, sql_replay

__all__ = ["database_path", "list_dead_letters", "replay_dead_letters"]


def database_path(project_dir: str | Path = ".") -> Path:
    """The SQLite file an app in ``project_dir`` uses for state and queue."""
    return Path(project_dir) / ".motia" / "motia.db"


def list_dead_letters(db_path: str | Path, topic: str | None = None) -> list[DeadLetter]:
    with _open(db_path) as conn:
        return sql_dead_letters(conn, topic)


def replay_dead_letters(db_path: str | Path, ids: list[str] | None = None) -> list[str]:
    """Make the dead letters ``ids`` (all when None) ready again; return the ids replayed."""
    with _open(db_path) as conn:
        return sql_replay(conn, ids)


@contextmanager
def _open(db_path: str | Path) -> Iterator[sqlite3.Connection]:
    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no queue database here (has the app run in this folder?)")
    with closing(connect(path)) as conn:
        yield conn
