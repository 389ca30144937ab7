"""``LiveServer``: a real uvicorn server on a free port, in the test's own event loop.

The server does not run the app's lifespan (``lifespan="off"``): whoever starts
the app (``RunningApp``) already has, so in-process requests and network
connections share one runtime. It installs no signal handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from motia._http.server_protocol import LimitedHttpProtocol

__all__ = ["LiveServer"]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ctrl+C must reach pytest, not stop this server quietly.
        yield


class LiveServer:
    def __init__(self, app: Any, *, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.app = app
        self.host = host
        self.timeout = timeout
        self.port = 0
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> LiveServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            http=LimitedHttpProtocol,  # the limits `motia start` serves with
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=max(1, int(self.timeout / 2)),
        )
        self._server = _Server(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]))
        await self._wait_started()
        return self

    async def _wait_started(self) -> None:
        assert self._server is not None and self._task is not None
        async with asyncio.timeout(self.timeout):
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                    raise RuntimeError("the test server stopped while starting")
                await asyncio.sleep(0.005)

    async def stop(self) -> None:
        server, task = self._server, self._task
        if server is None or task is None:
            return
        self._server = self._task = None
        server.should_exit = True
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if not done:
            server.force_exit = True
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
            raise RuntimeError(f"the test server did not stop within {self.timeout}s")
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]

    async def __aenter__(self) -> LiveServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
