"""``Lifespan``: run an ASGI app's startup and shutdown around a block of code."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from starlette.types import Message, Receive, Send

__all__ = ["Lifespan"]

_ASGI = {"version": "3.0", "spec_version": "2.0"}


class Lifespan:
    """``async with Lifespan(app):`` drives the ASGI lifespan protocol, with deadlines.

    ``state`` is the lifespan state the app filled in; requests get a copy, as servers do.
    """

    def __init__(self, app: Any, *, timeout: float = 10.0) -> None:
        self.app = app
        self.timeout = timeout
        self.state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Lifespan:
        scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
        self._task = asyncio.get_running_loop().create_task(
            self.app(scope, self._receive(), self._send())
        )
        await self._step("startup")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._step("shutdown")
        assert self._task is not None
        done, _ = await asyncio.wait({self._task}, timeout=self.timeout)
        if not done:
            self._task.cancel()
            raise RuntimeError(f"the app's lifespan did not end within {self.timeout}s")

    async def _step(self, phase: str) -> None:
        assert self._task is not None
        await self._inbox.put({"type": f"lifespan.{phase}"})
        reply = asyncio.ensure_future(self._outbox.get())
        done, _ = await asyncio.wait(
            {reply, self._task}, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if reply not in done:
            reply.cancel()
            self._raise_from_task(phase)
        message = reply.result()
        if message["type"] == f"lifespan.{phase}.failed":
            raise RuntimeError(f"the app's {phase} failed: {message.get('message', '')}")

    def _raise_from_task(self, phase: str) -> None:
        assert self._task is not None
        if not self._task.done():
            self._task.cancel()
            raise RuntimeError(f"the app's {phase} did not complete within {self.timeout}s")
        error = None if self._task.cancelled() else self._task.exception()
        if error is not None:
            raise error
        raise RuntimeError(f"the app returned during {phase} without completing it")

    def _receive(self) -> Receive:
        async def receive() -> Message:
            return await self._inbox.get()

        return receive

    def _send(self) -> Send:
        async def send(message: Message) -> None:
            await self._outbox.put(message)

        return send
