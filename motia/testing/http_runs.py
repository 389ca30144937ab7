"""``run_http``: one HTTP request to one step, without an app or a server.

The request goes through the same adapter the app uses (body parsing,
``body_schema`` validation, condition, middleware, response encoding and
streaming), with a ``FakeContext``. The ``HttpResult`` holds the status, the
headers, the body as sent (``content``, ``chunks``) and, for an event stream,
the parsed ``events``. A streaming handler that never ends is disconnected
after ``max_events`` events; past ``timeout`` seconds the test fails.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.types import Message

from motia._core.json import dumps_bytes
from motia._http.endpoint import StepEndpoint
from motia._project.registry import HttpRoute, normalize_path
from motia._project.triggers import HttpTrigger
from motia.settings import Settings
from motia.sse import ServerSentEvent, SSEParser
from motia.testing.context import FakeContext
from motia.testing.failures import describe, fail
from motia.testing.runs import FakeRuntime
from motia.testing.steps import StepLike, resolve_step, triggers_of

__all__ = ["HttpResult", "run_http"]


@dataclass(slots=True)
class HttpResult:
    ctx: FakeContext
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    events: list[ServerSentEvent] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def content(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def body(self) -> Any:
        """The body decoded by its content type: JSON, text, else bytes (None when empty)."""
        if not self.content:
            return None
        media = self.headers.get("content-type", "")
        if "json" in media:
            return self.json()
        if media.startswith("text/"):
            return self.text
        return self.content


async def run_http(
    step: StepLike,
    body: Any = None,
    *,
    method: str | None = None,
    path: str | None = None,
    path_params: dict[str, str] | None = None,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    content: bytes | str | None = None,
    ctx: FakeContext | None = None,
    settings: Settings | None = None,
    max_events: int | None = None,
    timeout: float = 5.0,
    raise_errors: bool = True,
) -> HttpResult:
    """Call the step's HTTP trigger (the one for ``method``/``path``, if several).

    ``body`` is sent as JSON, ``content`` as it is. An exception in the handler is
    raised here unless ``raise_errors=False`` (then ``status`` is 500, ``error`` set).
    """
    resolved = resolve_step(step, HttpTrigger(method or "POST", path or "/"))
    index, trigger = _trigger(resolved, method, path)
    ctx = ctx or FakeContext(step_name=resolved.name)
    endpoint = StepEndpoint(HttpRoute(resolved, trigger, index), FakeRuntime(ctx, settings))
    result = HttpResult(ctx)
    raw, scope = _scope(trigger, ctx.trace_id, body, content, path_params or {}, query, headers)
    exchange = _Exchange(result, raw, max_events)
    logged = len(ctx.logs)
    try:
        async with asyncio.timeout(timeout):
            await endpoint(scope, exchange.receive, exchange.send)
    except TimeoutError:
        fail(_timeout_message(resolved.name, timeout, max_events, result))
    result.error = next((e.error for e in ctx.logs[logged:] if e.error is not None), None)
    if raise_errors and result.error is not None:
        raise result.error
    return result


def _trigger(step: Any, method: str | None, path: str | None) -> tuple[int, HttpTrigger]:
    found = [
        (index, trigger)
        for index, trigger in triggers_of(step, HttpTrigger)
        if (method is None or trigger.method == method.upper())
        and (path is None or normalize_path(trigger.path) == normalize_path(path))
    ]
    if not found:
        raise ValueError(f'step "{step.name}" has no HTTP trigger for {method or ""} {path or ""}')
    return found[0]


def _scope(
    trigger: HttpTrigger,
    trace_id: str,
    body: Any,
    content: bytes | str | None,
    path_params: dict[str, str],
    query: dict[str, Any] | None,
    headers: dict[str, str] | None,
) -> tuple[bytes, dict[str, Any]]:
    raw, sent_headers = _body(body, content)
    sent_headers.update(
        {"x-trace-id": trace_id, **{k.lower(): v for k, v in (headers or {}).items()}}
    )
    path = normalize_path(trigger.path).format_map(_Params(path_params))
    return raw, {
        "type": "http",
        "method": trigger.method,
        "path": path,
        "path_params": dict(path_params),
        "query_string": urlencode(query or {}, doseq=True).encode(),
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in sent_headers.items()],
    }


def _body(body: Any, content: bytes | str | None) -> tuple[bytes, dict[str, str]]:
    if content is not None:
        raw = content.encode() if isinstance(content, str) else content
        return raw, {"content-length": str(len(raw))}
    if body is None:
        return b"", {}
    raw = dumps_bytes(body)
    return raw, {"content-type": "application/json", "content-length": str(len(raw))}


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _Exchange:
    """The ASGI side of one request: records what is sent, disconnects after N events."""

    def __init__(self, result: HttpResult, body: bytes, max_events: int | None) -> None:
        self.result = result
        self.max_events = max_events
        self.body: bytes | None = body
        self._parser = SSEParser()
        self._disconnected = asyncio.Event()

    async def receive(self) -> Message:
        if self.body is not None:
            body, self.body = self.body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await self._disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.result.status = message["status"]
            self.result.headers = {
                k.decode("latin-1"): v.decode("latin-1") for k, v in message["headers"]
            }
        elif message["type"] == "http.response.body":
            self._body(message.get("body", b""))
            if not message.get("more_body", False):
                self._disconnected.set()

    def _body(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.result.chunks.append(chunk)
        if self.result.headers.get("content-type", "").startswith("text/event-stream"):
            self.result.events.extend(self._parser.feed(chunk))
            if self.max_events is not None and len(self.result.events) >= self.max_events:
                self._disconnected.set()


def _timeout_message(name: str, timeout: float, max_events: int | None, result: HttpResult) -> str:
    hint = "" if max_events is not None else " (pass max_events=N to stop a stream after N events)"
    got = describe(result.events) if result.events else f"{len(result.content)} byte(s)"
    return f'step "{name}" still running after {timeout}s{hint}; received {got}'
