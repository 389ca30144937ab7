"""Storage backends for state and stream items, all behind the ``Store`` interface."""

from motia.backends.base import Change, ChangeFeed, Ephemeral, Store
from motia.backends.memory import MemoryStore
from motia.backends.sqlite import SQLiteStore

__all__ = ["Change", "ChangeFeed", "Ephemeral", "MemoryStore", "SQLiteStore", "Store"]
