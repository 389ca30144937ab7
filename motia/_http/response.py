"""An HTTP response: what a handler streams through or returns, and the runtime's errors.

A handler may return a value, sent whole (``ApiResponse``, a ``{"status", "body",
"headers"}`` dict, or a bare body), or stream: ``status()``, ``headers()``, then
``write()``/``send()`` and ``close()``. Streamed bytes travel through a ``BodyStream``
(``response_stream``: buffering, pings, disconnects). Every streaming call is safe from a
sync handler's worker thread: it hops to the loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from starlette import responses

from motia._core.asgi import Receive, Send
from motia._core.json import dumps_bytes
from motia._http.response_stream import HIGH_WATER, BodyStream, encode_headers, end_to_end
from motia._runtime.open_streams import OpenStreams
from motia._sending.sender import SendPolicy
from motia.exceptions import ResponseStartedError, UnencodableBody
from motia.sse import encode_event, encode_frame

__all__ = [
    "ApiResponse",
    "JSONResponse",
    "MotiaHttpResponse",
    "ResponseCheck",
    "StreamOptions",
    "send_json",
]

T = TypeVar("T")
_JSON = b"application/json"
_BINARY = (bytes, bytearray, memoryview)  # a tuple: `bytes | ...` here is built on every call

RawHeaders = list[tuple[bytes, bytes]]

ResponseCheck = Callable[[int, Any, str], None]
"""Looks at a returned status and body (and the trace id) before they are sent."""


class ApiResponse(BaseModel, Generic[T]):
    """``ApiResponse[Body](status=, body=, headers=)``; the parameter documents the body."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    status: int = 200
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """How an endpoint's responses stream, decided once per endpoint."""

    heartbeat_interval: float
    policy: SendPolicy
    """The endpoint's buffer limit, the app's counters, the send batch."""
    open_responses: OpenStreams
    """Responses streaming right now (the runtime ends them at shutdown)."""


class MotiaHttpResponse:
    """What a handler streams through; the wire half is made on first use only."""

    __slots__ = ("_body", "_cancel", "_loop", "_on_watch", "_options", "_receive", "_send",
                 "_thread", "trace_id")  # fmt: skip

    def __init__(self, send: Send, receive: Receive, trace_id: str, options: StreamOptions):
        self._send = send
        self._receive = receive
        self.trace_id = trace_id
        self._options = options
        self._body: BodyStream | None = None
        self._cancel: Callable[[], None] | None = None
        self._on_watch: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0

    # -- what handlers call -------------------------------------------------------------

    async def status(self, code: int) -> None:
        self._before_body("status").status = int(code)

    async def headers(self, headers: dict[str, str]) -> None:
        body = self._before_body("headers")
        for name, value in headers.items():
            body.headers[name.lower()] = str(value)
        if body.is_event_stream():
            self._on_loop(body.declare_event_stream)

    @property
    def writer(self) -> MotiaHttpResponse:
        return self

    @property
    def stream(self) -> MotiaHttpResponse:
        return self

    def write(self, data: bytes | str) -> None:
        """Queue bytes for the client without waiting."""
        self._on_loop(self._stream().write_body, data)

    async def send(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
    ) -> None:
        """Write one SSE frame; waits while the client is behind."""
        body = self._body or self._stream()
        body.write_frame(encode_frame(data, event, id, retry))
        if body.queued > HIGH_WATER and not body.closed:
            await body.wait_drained()

    async def drain(self) -> None:
        """Wait until the buffered bytes have been handed to the server."""
        body = self._body
        if body is not None and body.buffered and not body.closed:
            await body.wait_drained()

    def close(self) -> None:
        """End the body (idempotent); bytes already written are still delivered."""
        self._on_loop(self._stream().request_close)

    @property
    def is_closed(self) -> bool:
        body = self._stream()
        self._on_loop(body.watch)
        return body.closing

    async def wait_closed(self) -> None:
        body = self._stream()
        body.watch()
        await body.wait_closed()

    # -- used by the request adapter ----------------------------------------------------

    def bind(self, cancel: Callable[[], None], on_watch: Callable[[], None] | None = None) -> None:
        """``cancel`` stops the handler; ``on_watch``, if given, is told when the response
        starts streaming and watches the client itself (``watch_client``)."""
        self._cancel = cancel
        self._on_watch = on_watch
        if self._body is not None:
            self._body.on_abort = cancel
            self._body.on_watch = on_watch
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    async def watch_client(self) -> None:
        """Return once the client is gone (then the handler is cancelled)."""
        await self._stream().watch_client()

    async def send_result(self, result: Any, check: ResponseCheck | None = None) -> None:
        """The handler returned ``result``: end the body it streamed, or send ``result`` whole.

        Raises ``UnencodableBody`` before sending anything if the body is not JSON.
        """
        if self._body_began or (result is None and self._watching):
            await self.finish()  # returning nothing after status() or headers() ends a stream
            return
        status, body, headers = self._unpack(result)
        if check is not None:
            check(status, body, self.trace_id)
        payload, content_type = _encode_body(body)
        raw = _whole_headers(headers, content_type)
        await _send_whole(self._send, status, raw, payload, self.trace_id)

    async def send_failure(
        self, error: dict[str, Any], status: int = 500, headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        """The handler failed with ``error`` (``{"error": message, ...}``): an ``error``
        event ends a streamed body, else it is sent as JSON with ``status`` and ``headers``."""
        if self._body_began:
            body = self._stream()
            event = {"message": error["error"], "trace_id": self.trace_id}
            body.write_body(encode_event(event, event="error"))
            await body.finish()
            return
        answer = {**error, "trace_id": self.trace_id}
        await send_json(self._send, status, answer, self.trace_id, headers=headers)

    async def finish(self) -> None:
        """Deliver what is buffered and end the body."""
        await self._stream().finish()

    def shutdown(self) -> None:
        """The server is stopping: cancel the handler; the adapter then ends the body."""
        if self._cancel is not None:
            self._cancel()

    def release(self) -> None:
        if self._body is not None:
            self._body.release()
            self._options.open_responses.discard(self)

    # -- internals ----------------------------------------------------------------------

    @property
    def _body_began(self) -> bool:
        """The head or body bytes went out, or the body was closed (``close()``, a lost
        client): a whole response can no longer be sent."""
        body = self._body
        return body is not None and (body.started or body.body_written or body.closing)

    @property
    def _watching(self) -> bool:
        """The handler used the streaming API (status, headers, writes or close checks)."""
        return self._body is not None and self._body.watching

    def _unpack(self, result: Any) -> tuple[int, Any, dict[str, str]]:
        """Status, body and headers of a returned value, over what the handler declared."""
        declared = self._body  # status and headers set without writing, if any
        status = 200 if declared is None else declared.status
        headers = {} if declared is None else dict(declared.headers)
        if result is None:
            return 204, None, headers
        if isinstance(result, dict):  # before ApiResponse: a model's isinstance costs more
            code = result.get("status", result.get("status_code"))
            # {"status": "ok", ...} is a body that happens to have a "status" key, not an envelope.
            if isinstance(code, int) and not isinstance(code, bool):
                returned_headers = result.get("headers")
                if returned_headers:
                    headers.update(_lowered(returned_headers))
                return code, result.get("body"), headers
        elif isinstance(result, ApiResponse):
            headers.update(_lowered(result.headers))
            return result.status, result.body, headers
        return status, result, headers

    def _stream(self) -> BodyStream:
        body = self._body
        if body is None:
            options = self._options
            body = self._body = BodyStream(
                self._send,
                self._receive,
                self.trace_id,
                heartbeat_interval=options.heartbeat_interval,
                policy=options.policy,
            )
            body.on_abort = self._cancel
            body.on_watch = self._on_watch
            options.open_responses.add(self)
        return body

    def _before_body(self, what: str) -> BodyStream:
        body = self._stream()
        if body.body_written:
            raise ResponseStartedError(
                f"response.{what}() called after the first body byte was written; "
                f"set status and headers before writing"
            )
        if body.started:
            raise ResponseStartedError(
                f"response.{what}() called after the head of the event stream went out; "
                f"set status and headers before the handler awaits anything once it has "
                f"declared text/event-stream"
            )
        self._on_loop(body.watch)
        return body

    def _on_loop(self, action: Callable[..., None], *args: Any) -> None:
        """Run ``action`` now on the loop's thread, or hand it over from a worker thread."""
        if self._loop is not None and threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(action, *args)
        else:
            action(*args)


# -- whole responses ------------------------------------------------------------------------


class JSONResponse(responses.JSONResponse):
    """Starlette's JSON response for the runtime's own routes, encoded by the JSON policy."""

    def render(self, content: Any) -> bytes:
        return dumps_bytes(content)


def _lowered(headers: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): str(value) for name, value in headers.items()}


def _encode_body(body: Any) -> tuple[bytes, bytes | None]:
    """The payload and its content type: bytes as they are, text, else JSON."""
    if body is None:
        return b"", None
    if isinstance(body, _BINARY):
        return bytes(body), b"application/octet-stream"
    if isinstance(body, str):
        return body.encode(), b"text/plain; charset=utf-8"
    try:
        return dumps_bytes(body), _JSON
    except ValueError as exc:
        raise UnencodableBody(f"the returned body is not JSON: {exc}") from exc


async def send_json(
    send: Send,
    status: int,
    body: Any,
    trace_id: str,
    *,
    close: bool = False,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """One of the runtime's own JSON answers (errors, refusals)."""
    raw = [(b"content-type", _JSON), *headers]
    if close:
        raw.append((b"connection", b"close"))
    await _send_whole(send, status, raw, dumps_bytes(body), trace_id)


def _whole_headers(headers: dict[str, str], content_type: bytes | None) -> RawHeaders:
    """A returned value's headers as sent: the handler's without hop-by-hop ones, and the
    payload's content type unless the handler chose one (the length is the payload's own)."""
    if headers:
        headers = end_to_end(headers)
        headers.pop("content-length", None)
    raw = encode_headers(headers) if headers else []
    if content_type and "content-type" not in headers:
        raw.append((b"content-type", content_type))
    return raw


async def _send_whole(
    send: Send, status: int, raw: RawHeaders, payload: bytes, trace_id: str
) -> None:
    """One whole response; ``raw`` gets the length and the trace id appended."""
    raw.append((b"content-length", str(len(payload)).encode()))
    raw.append((b"x-trace-id", trace_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
