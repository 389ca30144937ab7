"""Which ``Store`` a configuration names: ``"sqlite"``, ``"memory"`` or ``"redis"``.

Redis is chosen by name, or by configuring a Redis URL (``redis_url=`` or the
``MOTIA_REDIS_URL`` environment variable) without naming a store. The Redis
client library is imported only when Redis is chosen.
"""

from __future__ import annotations

import os
from pathlib import Path

from motia.backends.base import Store
from motia.backends.memory import MemoryStore
from motia.backends.sqlite import SQLiteStore

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_URL",
    "PREFIX_ENV",
    "STORE_NAMES",
    "URL_ENV",
    "build_store",
    "database_path",
    "redis_location",
    "redis_url",
    "store_name",
]

URL_ENV = "MOTIA_REDIS_URL"
PREFIX_ENV = "MOTIA_REDIS_PREFIX"
STORE_NAMES = ("sqlite", "memory", "redis")
DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "motia:"


def redis_url(explicit: str | None = None) -> str | None:
    """The configured Redis URL: the argument, else ``MOTIA_REDIS_URL``, else None."""
    return explicit or os.environ.get(URL_ENV) or None


def redis_location(url: str | None = None, prefix: str | None = None) -> tuple[str, str]:
    """The Redis URL and key prefix the store and the queue use: the arguments, else
    ``MOTIA_REDIS_URL`` and ``MOTIA_REDIS_PREFIX``, else the defaults."""
    return redis_url(url) or DEFAULT_URL, prefix or os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX


def store_name(store: str | None, url: str | None = None) -> str:
    """The store to use: the one named, else Redis when a URL is configured, else SQLite."""
    if store is None:
        return "redis" if redis_url(url) else "sqlite"
    if store not in STORE_NAMES:
        names = ", ".join(f'"{name}"' for name in STORE_NAMES)
        raise ValueError(f"store must be {names} or a Store instance, got {store!r}")
    return store


def database_path(project_dir: str | Path = ".") -> Path:
    """The SQLite file an app in ``project_dir`` uses for state and queue."""
    return Path(project_dir) / ".motia" / "motia.db"


def build_store(
    store: str | None,
    project_dir: Path,
    *,
    url: str | None = None,
    prefix: str | None = None,
) -> Store:
    name = store_name(store, url)
    if name == "memory":
        return MemoryStore()
    if name == "sqlite":
        return SQLiteStore(database_path(project_dir))
    return _redis_store(url, prefix)


def _redis_store(url: str | None, prefix: str | None) -> Store:
    try:
        from motia.backends.redis import RedisStore
    except ImportError as exc:
        raise ImportError('store="redis" needs the Redis client: pip install "redis>=5"') from exc
    url, prefix = redis_location(url, prefix)
    return RedisStore(url, prefix=prefix)
