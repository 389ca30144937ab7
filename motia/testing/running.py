"""``RunningApp``: an app with its lifespan running, and the clients that talk to it.

    async with RunningApp(Motia(steps_dir="steps", store="memory")) as running:
        client = running.client()                 # in-process HTTP, SSE included
        ws = await running.stream_client()        # WebSocket over a real local server

Clients, the server and the lifespan are closed in that order when the block
ends, each within a deadline.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from motia.app import Motia
from motia.testing.client import MotiaClient
from motia.testing.lifespan import Lifespan
from motia.testing.server import LiveServer
from motia.testing.stream_client import StreamClient

__all__ = ["RunningApp"]


class RunningApp:
    def __init__(self, app: Motia | Any, *, timeout: float = 5.0) -> None:
        self.motia = app if isinstance(app, Motia) else None
        self.asgi = app.asgi() if isinstance(app, Motia) else app
        self.timeout = timeout
        self._lifespan = Lifespan(self.asgi, timeout=max(timeout, 10.0))
        self._clients: list[MotiaClient] = []
        self._sockets: list[StreamClient] = []
        self._server: LiveServer | None = None

    async def __aenter__(self) -> RunningApp:
        await self._lifespan.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self._close_connections()
        finally:
            await self._lifespan.__aexit__(exc_type, exc, traceback)

    async def _close_connections(self) -> None:
        try:
            for socket in self._sockets:
                await socket.close()
            for client in self._clients:
                await client.aclose()
        finally:
            if self._server is not None:
                if self.motia is not None:
                    self.motia.runtime.end_streams()
                await self._server.stop()

    def client(self, **kwargs: Any) -> MotiaClient:
        """A new in-process HTTP client (closed with the app)."""
        kwargs.setdefault("sse_timeout", self.timeout)
        kwargs.setdefault("disconnect_timeout", self.timeout)
        client = MotiaClient(self.asgi, state=self._lifespan.state, **kwargs)
        self._clients.append(client)
        return client

    async def server(self) -> LiveServer:
        """A real uvicorn server for this app on a free local port (started once)."""
        if self._server is None:
            self._server = await LiveServer(self.asgi).start()
        return self._server

    async def stream_client(self, *, token: str | None = None, path: str = "/streams",
                            headers: dict[str, str] | None = None) -> StreamClient:  # fmt: skip
        """A new WebSocket stream client connected to ``server()`` (closed with the app)."""
        server = await self.server()
        socket = await StreamClient.connect(
            server.ws_url + path, token=token, headers=headers, timeout=self.timeout
        )
        self._sockets.append(socket)
        return socket
