"""An httpx transport that calls an ASGI app in-process and streams its response.

httpx's own ``ASGITransport`` waits for the whole body, so an endless event
stream never returns. Here the app runs in its own task and the body is handed
over chunk by chunk as the app sends it. Closing the response tells the app
the client went away (``http.disconnect``) and waits, within
``disconnect_timeout``, for the app to finish: when ``aclose()`` returns, the
handler's cleanup has run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

from motia.testing.failures import fail

__all__ = ["StreamingASGITransport"]

_END = b""


class StreamingASGITransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        app: ASGIApp,
        *,
        disconnect_timeout: float = 5.0,
        raise_app_exceptions: bool = True,
        state: dict[str, Any] | None = None,
        client: tuple[str, int] = ("127.0.0.1", 50000),
    ) -> None:
        self.app = app
        self.disconnect_timeout = disconnect_timeout
        self.raise_app_exceptions = raise_app_exceptions
        self.state = state if state is not None else {}
        self.client = client
        self.open: set[Exchange] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = Exchange(self, request, await request.aread())
        await exchange.start(_read_timeout(request))
        return httpx.Response(exchange.status, headers=exchange.headers, stream=exchange)

    async def aclose(self) -> None:
        for exchange in list(self.open):
            await exchange.aclose()

    def scope(self, request: httpx.Request) -> dict[str, Any]:
        url = request.url
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": self.client,
            "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
            "state": dict(self.state),
        }


class Exchange(httpx.AsyncByteStream):
    """One request: the app's task, the body it sends, and the client's disconnect."""

    def __init__(self, transport: StreamingASGITransport, request: httpx.Request, body: bytes):
        self.transport = transport
        self.label = f"{request.method} {request.url.path}"
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self._scope = transport.scope(request)
        self._body: bytes | None = body
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self._started = asyncio.Event()
        self._disconnected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._read_timeout: float | None = None
        self._raised = False

    async def start(self, read_timeout: float | None) -> None:
        self._read_timeout = read_timeout
        self._task = asyncio.get_running_loop().create_task(self._run())
        self.transport.open.add(self)
        try:
            await self._wait_started()
        except BaseException:
            await self._stop(quiet=True)
            raise

    async def _wait_started(self) -> None:
        assert self._task is not None
        started = asyncio.ensure_future(self._started.wait())
        try:
            done, _ = await asyncio.wait(
                {started, self._task},
                timeout=self._read_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            started.cancel()
        if self._started.is_set():
            return
        if not done:
            raise httpx.ReadTimeout(f"{self.label}: no response within {self._read_timeout}s")
        self._raise_app_error()
        raise RuntimeError(f"{self.label}: the app returned without sending a response")

    async def _run(self) -> None:
        try:
            await self.transport.app(self._scope, self._receive, self._send)
        finally:
            self._chunks.put_nowait(_END)

    async def _receive(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await self._disconnected.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
            self._started.set()
        elif message["type"] == "http.response.body" and not self._disconnected.is_set():
            if message.get("body"):
                self._chunks.put_nowait(bytes(message["body"]))
            if not message.get("more_body", False):
                self._chunks.put_nowait(_END)
                # A server reports a finished response as a disconnect, as uvicorn does.
                self._disconnected.set()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            chunk = await self._next_chunk()
            if chunk is _END:
                self._raise_app_error()
                return
            yield chunk

    async def _next_chunk(self) -> bytes:
        try:
            async with asyncio.timeout(self._read_timeout):
                return await self._chunks.get()
        except TimeoutError:
            raise httpx.ReadTimeout(f"{self.label}: no data within {self._read_timeout}s") from None

    async def aclose(self) -> None:
        await self._stop(quiet=False)
        self._raise_app_error()

    async def _stop(self, *, quiet: bool) -> None:
        """Disconnect and wait for the app; past the deadline, cancel it (and fail)."""
        self.transport.open.discard(self)
        task = self._task
        if task is None or task.done():
            return
        self._disconnected.set()
        done, _ = await asyncio.wait({task}, timeout=self.transport.disconnect_timeout)
        if done:
            return
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
        if not quiet:
            fail(
                f"{self.label}: the app was still running {self.transport.disconnect_timeout}s "
                "after the client disconnected (it was cancelled); a streaming handler should "
                "stop when the client goes away"
            )

    def _raise_app_error(self) -> None:
        task = self._task
        if self._raised or task is None or not task.done() or task.cancelled():
            return
        error = task.exception()
        if error is not None and self.transport.raise_app_exceptions:
            self._raised = True
            raise error


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout", {})
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if value is not None else None
