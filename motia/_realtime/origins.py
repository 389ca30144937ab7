"""Which web pages may subscribe to streams: the ``Origin`` check of WebSocket and SSE.

A browser sends ``Origin`` on every WebSocket handshake and on every cross-origin
``EventSource`` request, and a page cannot forge it; programs (the official Node
client, curl, Python clients) usually send none. Admitted:

- a request without ``Origin`` (not from a browser page, or a same-origin ``EventSource``);
- the app's own origin: the ``Origin`` names the host (and port, when ``Host`` has one)
  the request was sent to;
- a loopback origin (``localhost``, ``127.0.0.1``, ``[::1]``, any port): a dev frontend;
- the origins in ``Settings.stream_origins``; ``"*"`` admits every origin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["LOOPBACK_HOSTS", "OriginPolicy"]

log = logging.getLogger("motia.streams")

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class OriginPolicy:
    """The origins a stream subscription may come from (see the module's docstring)."""

    __slots__ = ("_any", "_listed")

    def __init__(self, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        self._any = "*" in allowed
        self._listed = frozenset(_normal(origin) for origin in allowed)

    def admits(self, origin: str | None, host: str | None) -> bool:
        if origin is None or self._any or _normal(origin) in self._listed:
            return True
        try:
            parts = urlsplit(origin)
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            return False
        if parts.hostname is None:
            return False  # "null": a sandboxed frame or a file:// page
        return parts.hostname in LOOPBACK_HOSTS or _same_host(parts.hostname, port, host)

    def refuse(self, origin: str, transport: str) -> None:
        """Log a refused subscription, one line."""
        log.warning(
            "stream %s from origin %r refused: not the app's own, loopback or listed in "
            "stream_origins (--stream-origin)",
            transport,
            origin[:200],
        )


def _normal(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def _same_host(hostname: str, port: int | None, host: str | None) -> bool:
    """Whether ``Host`` names ``hostname`` (and ``port``, when ``Host`` carries one)."""
    if not host:
        return False
    try:
        target = urlsplit(f"//{host}")
        return target.hostname == hostname and target.port in (None, port)
    except ValueError:
        return False
