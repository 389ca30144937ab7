"""The Lua scripts (``lua/store/*.lua``) that make each ``RedisStore`` write one atomic step.

Each script follows ``lua/store/prelude.lua``: ``change`` (an item created or updated:
its version, its place in the group, its message) and ``announce`` (a message on the
feed channel), which every write shares.

Every write script bumps the store-wide version (``INCR``) and publishes the
change in the same script, so the order of versions and the order of messages
on the feed channel agree (``UPDATE`` writes several updates of one item in a row,
each its own change with its own version). Keys, in this order, for every script::

    KEYS[1] items   hash   item_id -> JSON text
    KEYS[2] order   zset   item_id scored by the version that created it
    KEYS[3] groups  set    group ids of the namespace that hold items
    KEYS[4] version string the store-wide version

except ``PUBLISH`` (an ephemeral event), which takes the version and the event
counter. A published change is five lines: kind, version, ``[namespace,
group_id, item_id]`` as JSON, the old JSON text and the new one (empty when
absent); an ephemeral event is four: ``event``, the version, its count and its
fields as JSON. JSON text written by ``dump_json`` never holds a raw newline.
"""

from __future__ import annotations

from motia.backends.redis_client import read_scripts

__all__ = ["SCRIPTS"]

SCRIPTS = read_scripts(
    "store", ("CLEAR", "DELETE", "PUBLISH", "SNAPSHOT", "UPDATE", "WRITE"), prelude="prelude"
)
