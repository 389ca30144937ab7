"""``CommandBatcher``: the Redis commands a process issues in one turn of its event loop,
sent to Redis in one pipeline.

A loaded process issues many small commands at once (claims, acks, writes and reads
of many concurrent handlers). Sending each on its own costs a socket write, a pool
checkout and a reply wait per command; sent together they cost one of each per
batch. The first command of a turn starts a task that runs on the loop's next turn,
by which time every command issued in this turn is waiting: it takes them all and
sends them as one non-transactional pipeline. Each caller gets its own reply, or its
own error: a command that fails (a script's error reply) fails only its caller; a
lost connection fails every command of that pipeline, like lone commands would.

Scripts go by their SHA (``EVALSHA``); a script Redis does not have (it restarted, or
``SCRIPT FLUSH``) is loaded and the commands that missed it are sent again: a
``NOSCRIPT`` reply means the script never ran.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

__all__ = ["CLOSE_GRACE", "MAX_BATCH", "CommandBatcher", "fail", "finish"]

MAX_BATCH = 512
"""Commands sent in one pipeline at most; a larger turn's share goes in several."""
CLOSE_GRACE = 5.0
"""Seconds ``aclose`` lets the commands on their way finish before it gives up on them."""


@dataclass(slots=True)
class _Command:
    args: tuple[Any, ...]
    reply: asyncio.Future[Any]
    script: str | None = field(default=None)


class CommandBatcher:
    """Sends ``client`` the commands of each loop turn in one pipeline."""

    def __init__(self, client: Redis, scripts: Mapping[str, str]) -> None:
        self.client = client
        self._texts = dict(scripts)
        self._shas = {name: _sha(text) for name, text in scripts.items()}
        self._waiting: list[_Command] = []
        self._sending: set[asyncio.Task[None]] = set()
        self.pipelines = 0
        """Pipelines sent so far (each a single round trip to Redis)."""

    async def script(self, name: str, keys: list[str], args: list[str]) -> Any:
        """Run the script ``name`` with ``keys`` and ``args``; its reply."""
        command = ("EVALSHA", self._shas[name], len(keys), *keys, *args)
        return await self._issue(command, name)

    async def command(self, *args: Any) -> Any:
        """Run one Redis command (``"HGET", key, field``); its reply."""
        return await self._issue(args, None)

    async def aclose(self, grace: float = CLOSE_GRACE) -> None:
        """Let the pipelines on their way finish, for ``grace`` seconds at most."""
        await finish(self._sending, grace)

    def _issue(self, args: tuple[Any, ...], script: str | None) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        self._waiting.append(_Command(args, reply, script))
        if len(self._waiting) == 1:
            task = loop.create_task(self._send_waiting())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return reply

    async def _send_waiting(self) -> None:
        batch, self._waiting = self._waiting, []
        if len(batch) <= MAX_BATCH:
            await self._send(batch)  # the usual case, without a task per part
            return
        await asyncio.gather(
            *(self._send(batch[at : at + MAX_BATCH]) for at in range(0, len(batch), MAX_BATCH))
        )

    async def _send(self, batch: list[_Command]) -> None:
        try:
            replies = await self._pipeline(batch)
            missed = [at for at, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missed:
                await self._load({batch[at].script for at in missed})
                again = await self._pipeline([batch[at] for at in missed])
                for at, reply in zip(missed, again, strict=True):
                    replies[at] = reply
        except BaseException as exc:
            for command in batch:
                fail(command.reply, exc)
            if not isinstance(exc, Exception):
                raise
            return
        for command, reply in zip(batch, replies, strict=True):
            if isinstance(reply, Exception):
                fail(command.reply, reply)
            elif not command.reply.done():
                command.reply.set_result(reply)

    async def _pipeline(self, batch: list[_Command]) -> list[Any]:
        self.pipelines += 1
        async with self.client.pipeline(transaction=False) as pipe:
            for command in batch:
                pipe.execute_command(*command.args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies

    async def _load(self, names: set[str | None]) -> None:
        for name in sorted(name for name in names if name is not None):
            await self.client.script_load(self._texts[name])


async def finish(tasks: set[asyncio.Task[None]], grace: float = CLOSE_GRACE) -> None:
    """Wait for ``tasks`` (and those added meanwhile), cancelling what is left after ``grace``
    seconds: Redis may not answer at all."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while tasks:
        _, pending = await asyncio.wait(set(tasks), timeout=max(deadline - loop.time(), 0))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


def fail(reply: asyncio.Future[Any], exc: BaseException) -> None:
    """Make ``reply`` raise a copy of ``exc`` (unless it is already done)."""
    if reply.done():
        return
    # Each caller raises its own copy: one instance raised in many tasks would gather
    # every task's traceback.
    try:
        own = copy.copy(exc)
    except Exception:  # an exception type that cannot be rebuilt from its args
        own = exc
    if not isinstance(own, Exception):  # cancelled on the way
        own = ConnectionError(f"the command was cancelled: {exc!r}")
    if own is not exc:
        own.__cause__ = exc
    reply.set_exception(own)


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
