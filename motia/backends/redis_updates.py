"""``UpdateBatcher``: the updates of one item from one process, written to Redis together.

An update reads the item, applies its ops in Python and writes the result only if
the item has not changed meanwhile. Updates of one item from one process would
each wait for the one before, two round trips apiece: a hot item (a counter every
handler bumps) would cap the process at a few hundred updates a second. Instead,
the updates of an item that arrive while one is being written wait together, and
are then applied one after the other, each to the result of the one before, and
written by one script (``lua/store/update.lua``) that checks the item is still what
they started from and makes each its own change, with its own version, in order.

An update whose ops (or check) raise fails alone; the next applies to the value
before it. When the item changed elsewhere, the script answers with the item as it
is now and the batch is applied again. While updates keep coming, the text written
last stands in for a read, so a steady stream of updates costs one round trip per
batch.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from motia.backends.base import Change, ChangeKind, UpdateCheck, dump_json, load_json, updated
from motia.backends.ops import JSON
from motia.backends.redis_batch import fail, finish
from motia.exceptions import UpdateConflict

__all__ = ["Item", "Stale", "UpdateBatcher"]

Item = tuple[str, str, str]
"""``(namespace, group_id, item_id)``."""

_MAX_ATTEMPTS = 1000


@dataclass(frozen=True, slots=True)
class Stale:
    """The write was refused: the item is ``text`` now (None: absent)."""

    text: str | None


Read = Callable[[Item], Awaitable[str | None]]
"""The item's stored text, None when absent."""
Write = Callable[[Item, str | None, list[str]], Awaitable[int | Stale]]
"""Store the texts one after the other if the item is still the given text (None:
absent); the version of the last one, or ``Stale``."""


@dataclass(slots=True)
class _Update:
    ops: list[dict[str, Any]]
    check: UpdateCheck | None
    reply: asyncio.Future[Change]


@dataclass(slots=True)
class _Outcome:
    update: _Update
    old_text: str | None
    old_value: JSON | None
    new_value: JSON | None = None
    error: Exception | None = None


class _Unread:
    """The item's text is not known: read it."""


_UNREAD = _Unread()


class UpdateBatcher:
    """Applies and writes the waiting updates of each item together (see the module)."""

    def __init__(self, read: Read, write: Write) -> None:
        self._read = read
        self._write = write
        self._waiting: dict[Item, list[_Update]] = {}
        self._drains: set[asyncio.Task[None]] = set()

    async def update(
        self, item: Item, ops: list[dict[str, Any]], check: UpdateCheck | None
    ) -> Change:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Change] = loop.create_future()
        waiting = self._waiting.get(item)
        if waiting is None:
            waiting = self._waiting[item] = []
            drain = loop.create_task(self._drain(item, waiting))
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        waiting.append(_Update(ops, check, reply))
        return await reply

    async def aclose(self) -> None:
        """Let the updates on their way finish (for a few seconds at most)."""
        await finish(self._drains)

    async def _drain(self, item: Item, waiting: list[_Update]) -> None:
        text: str | _Unread | None = _UNREAD
        batch: list[_Update] = []
        try:
            while waiting:
                batch = [update for update in waiting if not update.reply.done()]
                waiting.clear()
                try:
                    text = await self._apply(item, batch, text)
                except Exception as exc:
                    _fail(batch, exc)
                    text = _UNREAD
        except BaseException as exc:
            _fail([*batch, *waiting], ConnectionError(f"update of {item} interrupted: {exc!r}"))
            raise
        finally:
            del self._waiting[item]

    async def _apply(
        self, item: Item, batch: list[_Update], text: str | _Unread | None
    ) -> str | _Unread | None:
        """Write ``batch`` over ``text`` (read first when unknown); the text written last."""
        for _ in range(_MAX_ATTEMPTS):
            fresh = isinstance(text, _Unread)
            if isinstance(text, _Unread):
                text = await self._read(item)
            outcomes = _applied(text, batch)
            written = [o for o in outcomes if o.error is None]
            if not written and not fresh:
                text = _UNREAD  # every update failed on a remembered text: make sure
                continue
            if not written:
                _settle(item, outcomes, 0)
                return text
            reply = await self._write(item, text, [dump_json(o.new_value) for o in written])
            if isinstance(reply, Stale):
                text = reply.text
                await asyncio.sleep(random.uniform(0, 0.002))
                continue
            _settle(item, outcomes, reply - len(written) + 1)
            return dump_json(written[-1].new_value)
        raise UpdateConflict(f"update of {'/'.join(item)} kept conflicting")


def _applied(text: str | None, batch: list[_Update]) -> list[_Outcome]:
    """Each update applied to the result of the last one that succeeded before it."""
    outcomes = []
    old_text, old_value = text, None if text is None else load_json(text)
    for update in batch:
        try:
            new_value = updated(old_value, update.ops, update.check)
        except Exception as exc:
            outcomes.append(_Outcome(update, old_text, old_value, error=exc))
            continue
        outcomes.append(_Outcome(update, old_text, old_value, new_value))
        old_text, old_value = "", new_value  # present from here on
    return outcomes


def _settle(item: Item, outcomes: list[_Outcome], first_version: int) -> None:
    """Answer each update: its change (the written ones numbered from ``first_version``)
    or its error. A caller that gave up meanwhile still had its update written."""
    namespace, group_id, item_id = item
    version = first_version
    for o in outcomes:
        reply = o.update.reply
        if o.error is not None:
            fail(reply, o.error)
            continue
        if not reply.done():
            kind: ChangeKind = "create" if o.old_text is None else "update"
            reply.set_result(
                Change(namespace, group_id, item_id, kind, o.old_value, o.new_value, version)
            )
        version += 1


def _fail(updates: list[_Update], exc: Exception) -> None:
    for update in updates:
        fail(update.reply, exc)
