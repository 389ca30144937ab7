"""Which process runs a cron tick when several serve the same app.

Every process schedules every cron trigger and, at each tick, tries to take
that tick's lock (``SET key NX PX``): the one that gets it runs the step, the
others skip the tick. No process leads, so the schedule goes on whichever
process dies. The lock key names the tick itself and outlives it (``ttl``),
so a process whose clock runs a little late finds the tick already taken. A
tick whose lock cannot be asked for (Redis unreachable) is skipped, never run
twice.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Claim", "TickLocks", "claim_tick", "local_claim", "tick_claim"]

log = logging.getLogger("motia.cron")

Claim = Callable[[str], Awaitable[bool]]
"""Whether this process runs the cron tick named by its argument."""


@runtime_checkable
class TickLocks(Protocol):
    """A store shared between processes that can lock cron ticks."""

    async def claim_tick(self, tick: str) -> bool: ...


def tick_claim(store: object) -> Claim:
    """The ``claim`` hook for ``CronScheduler``: the store's tick lock, or always True."""
    if isinstance(store, TickLocks):
        return store.claim_tick
    return local_claim


async def local_claim(tick: str) -> bool:
    """Every tick is this process's own: nothing else shares its store."""
    return True


async def claim_tick(client: Redis, key: str, ttl: float) -> bool:
    """Take the lock ``key`` for ``ttl`` seconds; False if taken or Redis cannot be asked."""
    owner = f"{socket.gethostname()}:{os.getpid()}"
    try:
        return bool(await client.set(key, owner, nx=True, px=int(ttl * 1000)))
    except Exception as exc:  # the scheduler must keep going whatever the client raises
        log.warning("cron tick %s skipped: its lock could not be taken (%s)", key, exc)
        return False
