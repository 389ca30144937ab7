"""The Lua scripts that make each ``RedisQueue`` operation one atomic step on the server.

Each is ``lua/queue/{name}.lua`` after ``lua/queue/prelude.lua``, the functions
they share. Every script starts with ``ARGV[1]``, the queue's key prefix,
``ARGV[2]``, the caller's clock (seconds since the epoch, the clock every ``available_at``
and lease is measured on), ``ARGV[3]``, the channel that announces ready deliveries, and
``ARGV[4]``, the caller's origin token (so it can ignore its own announcements); the
script's own arguments follow. Keys, under that prefix, for subscriber ``S``
(``step:index``, the step percent-encoded)::

    d:{id}              hash    one delivery: body (JSON, never parsed here), sub, topic,
                                group, attempts, due, state, entry, error, failed_at, letter
    s:S:stream          stream  ready and leased deliveries (field ``id``), group "motia"
    s:S:delayed         zset    delivery ids waiting for their due time
    s:S:leases          zset    leased delivery ids by lease expiry
    s:S:retried         set     ids that failed (or lost their lease) at least once
    s:S:active          hash    FIFO: message group -> the one delivery let through
    s:S:waiting:{g}     list    FIFO: the rest of group g, oldest first
    s:S:meta            hash    ``waiting``: how many ids all those lists hold
    subs                hash    S -> topic, for stats
    mode                hash    S -> "fifo" | "standard", as its workers last claimed
    dead                stream  dead letters in the order they failed (field ``id``)

A delivery's ``state`` is one of ``waiting``, ``delayed``, ``ready``,
``leased`` or ``dead``. Floats go back to Python as strings: Redis would
truncate a Lua number to an integer.
"""

from __future__ import annotations

from motia.backends.redis_client import read_scripts

__all__ = ["SCRIPTS"]

SCRIPTS = read_scripts(
    "queue",
    ("ACK", "BURY", "CLAIM", "NEXT_DUE", "OLDEST", "PUSH", "RELEASE", "REPLAY", "RETRY", "STATS"),
    prelude="prelude",
)
