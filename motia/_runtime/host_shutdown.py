"""Noticing that the server hosting the app has begun to shut down, in any host.

On SIGINT/SIGTERM uvicorn sets ``should_exit`` on its ``Server``, stops
accepting, then waits for open connections to finish before it sends the ASGI
lifespan shutdown: an open stream would hold it for the whole graceful timeout
(forever without one), and be cut off after it. That holds however uvicorn is
run (``uvicorn app:app``, ``motia start``, an app mounted in Starlette or
FastAPI, ``uvicorn.run``): the signal handler it installs is a bound method of
that ``Server``. The runtime only reads the flag; the server's signal handling
is left as it is.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

__all__ = ["host_server", "watch_host"]

POLL_INTERVAL = 0.1
"""Seconds between looks at the server's flag: well inside the one second streams get."""


def host_server() -> Any | None:
    """The server whose signal handler is installed, when it tells of its shutdown."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        server = getattr(signal.getsignal(sig), "__self__", None)
        if isinstance(getattr(server, "should_exit", None), bool):
            return server
    return None


async def watch_host(server: Any, on_exit: Callable[[], None]) -> None:
    """Call ``on_exit`` once ``server`` begins to shut down."""
    while not server.should_exit:
        await asyncio.sleep(POLL_INTERVAL)
    on_exit()
