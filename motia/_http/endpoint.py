"""From HTTP triggers to ASGI endpoints: the per-request adapter.

Each HTTP trigger becomes one ``StepEndpoint``, a raw ASGI callable that reads
and validates the body, builds ``MotiaHttpArgs`` and the context, runs the
middleware chain and the handler, and sends what the handler returned or
streamed. Everything that can be decided once is decided when the app is built.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

import pydantic_core
from pydantic import BaseModel

from motia._core.asgi import Receive, Scope, Send, decode_headers, encode_headers, end_to_end
from motia._http.bodies import has_body, is_json, media_type, parse_body, parse_query, read_body
from motia._http.cancellation import HandlerCancellation
from motia._http.host import HttpHost
from motia._http.request import MotiaHttpArgs, MotiaHttpRequest, RequestBody
from motia._http.response import ApiResponse, MotiaHttpResponse, StreamOptions
from motia._project.registry import HttpRoute
from motia._project.schema import Schema, compile_schema
from motia._runtime.context import TriggerInfo
from motia._runtime.current import current_context
from motia._runtime.invoke import caller, condition_met, maybe_await
from motia._runtime.tracing import trace_id_from
from motia.exceptions import (
    BodyTooLarge,
    ClientGone,
    MalformedBody,
    MalformedJSON,
    SchemaValidationError,
)

__all__ = ["StepEndpoint", "send_json"]

log = logging.getLogger("motia.http")

_JSON = b"application/json"


class StepEndpoint:
    def __init__(self, route: HttpRoute, runtime: HttpHost) -> None:
        trigger = route.trigger
        self.step_name = route.step.name
        self.call = caller(route.step.handler)
        self.runtime = runtime
        self.settings = runtime.settings
        self.trigger_info = TriggerInfo(
            type="http", index=route.index, path=trigger.path, method=trigger.method
        )
        self.body_schema = _compile(trigger.body_schema)
        self.response_schemas = {
            int(status): compile_schema(schema)
            for status, schema in (trigger.response_schema or {}).items()
        }
        self.middleware = tuple(trigger.middleware or ())
        self.condition = trigger.condition
        interval = trigger.heartbeat_interval
        self.streaming = StreamOptions(
            heartbeat_interval=self.settings.heartbeat_interval if interval is None else interval,
            max_buffer=self.settings.max_stream_buffer,
            stats=runtime.stats,
            open_responses=runtime.responses,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = decode_headers(scope["headers"])
        trace_id = trace_id_from(headers)
        try:
            if has_body(headers, scope.get("http_version", "1.1")):
                chunks = await read_body(
                    receive, self.settings.max_body_size, headers.get("content-length")
                )
            else:
                chunks = []
            body = self._parse(headers.get("content-type", ""), chunks)
        except ClientGone:
            return  # a partial body must not reach the handler, and nobody awaits a reply
        except BodyTooLarge as exc:
            message = {"error": "Request body too large", "limit": exc.limit}
            await send_json(send, 413, message, trace_id, close=True)
            return
        except (MalformedBody, MalformedJSON) as exc:
            await send_json(send, 400, {"error": _malformed(exc)}, trace_id)
            return
        except SchemaValidationError as exc:
            message = {"error": "Request body validation failed", "errors": exc.as_list()}
            await send_json(send, 400, message, trace_id)
            return
        request: MotiaHttpRequest[Any] = MotiaHttpRequest(
            scope["method"],
            scope["path"],
            _path_params(scope),
            _query(scope["query_string"]),
            headers,
            body,
            RequestBody(chunks),
        )
        response = MotiaHttpResponse(send, receive, trace_id, self.streaming)
        args = MotiaHttpArgs(request, response)
        ctx = self.runtime.context(self.step_name, self.trigger_info, trace_id, args)
        await self._run(args, ctx, response, send)

    def _parse(self, content_type: str, chunks: list[bytes]) -> Any:
        raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        schema = self.body_schema
        if schema is not None and schema.model is not None and _json_body(raw, content_type):
            return schema.validate_json(raw)  # a model checks JSON bytes in one pass
        body = parse_body(content_type, raw) if raw else None
        return body if schema is None else schema.validate(body)

    async def _run(
        self, args: MotiaHttpArgs[Any], ctx: Any, response: MotiaHttpResponse, send: Send
    ) -> None:
        cancellation = HandlerCancellation(asyncio.current_task())
        response.bind(cancellation.cancel)
        try:
            try:
                result = await self._invoke_as_current(args, ctx)
            except asyncio.CancelledError:
                if not cancellation.settle(cancelled=True):
                    raise
                await response.finish()
                return
            except Exception as exc:
                cancellation.settle()
                await self._failed(exc, response, ctx, send)
                return
            cancellation.settle()
            await self._respond(result, response, send)
        finally:
            response.release()

    async def _invoke_as_current(self, args: MotiaHttpArgs[Any], ctx: Any) -> Any:
        """The handler, with ``ctx`` as the current context until it returns.

        Reset before anything is sent back: a timer the server starts then (keep-alive)
        copies the context and would keep the whole request alive with it.
        """
        token = current_context.set(ctx)
        try:
            return await self._invoke(args, ctx)
        finally:
            current_context.reset(token)

    def _invoke(self, args: MotiaHttpArgs[Any], ctx: Any) -> Awaitable[Any]:
        if self.condition is None and not self.middleware:
            return self.call(args, ctx)  # the handler's own coroutine: no frame of ours
        return self._guarded(args, ctx)

    async def _guarded(self, args: MotiaHttpArgs[Any], ctx: Any) -> Any:
        if not await condition_met(self.condition, args, ctx):
            return ApiResponse(
                status=422, body={"error": "Request condition not met", "skipped": True}
            )
        return await self._chain(0, args, ctx)

    async def _chain(self, index: int, args: MotiaHttpArgs[Any], ctx: Any) -> Any:
        if index == len(self.middleware):
            return await self.call(args, ctx)

        def next_() -> Awaitable[Any]:
            return self._chain(index + 1, args, ctx)

        return await maybe_await(self.middleware[index](args, ctx, next_))

    async def _respond(self, result: Any, response: MotiaHttpResponse, send: Send) -> None:
        if response.body_written or response.ended or (result is None and response.touched):
            await response.finish()
            return
        status, body, headers = _unpack(result, response)
        if headers:
            headers = end_to_end(headers)
            headers.pop("content-length", None)  # the length sent is the payload's own
        if self.response_schemas and self.settings.dev:
            self._check_response(status, body, response.trace_id)
        payload, content_type = _encode(body)
        raw = encode_headers(headers) if headers else []
        if content_type and "content-type" not in headers:
            raw.append((b"content-type", content_type))
        await _send_whole(send, status, raw, payload, response.trace_id)

    async def _failed(
        self, exc: Exception, response: MotiaHttpResponse, ctx: Any, send: Send
    ) -> None:
        ctx.logger.exception(f"handler failed: {type(exc).__name__}: {exc}")
        message = f"{type(exc).__name__}: {exc}" if self.settings.dev else "Internal Server Error"
        if response.body_written or response.ended:
            await response.send_error(message)
            return
        await send_json(send, 500, {"error": message, "trace_id": response.trace_id},
                        response.trace_id)  # fmt: skip

    def _check_response(self, status: int, body: Any, trace_id: str) -> None:
        schema = self.response_schemas.get(status)
        if schema is None:
            return
        try:
            schema.validate(_plain(body))
        except SchemaValidationError as exc:
            log.warning(
                "step %r returned a %d body that does not match its response_schema: %s",
                self.step_name, status, exc, extra={"trace_id": trace_id},
            )  # fmt: skip


def _json_body(raw: bytes, content_type: str) -> bool:
    return bool(raw) and not raw.isspace() and is_json(media_type(content_type))


def _path_params(scope: Scope) -> dict[str, str]:
    params = scope.get("path_params")
    return {k: str(v) for k, v in params.items()} if params else {}


def _query(raw: bytes) -> dict[str, str | list[str]]:
    return parse_query(raw.decode("latin-1")) if raw else {}


def _malformed(exc: Exception) -> str:
    if isinstance(exc, MalformedJSON):
        return f"request body is not valid JSON: {exc}"
    return str(exc)


def _compile(schema: Any) -> Schema | None:
    return None if schema is None else compile_schema(schema)


def _unpack(result: Any, response: MotiaHttpResponse) -> tuple[int, Any, dict[str, str]]:
    headers = dict(response.declared_headers) if response.touched else {}
    if result is None:
        return (response.declared_status if response.touched else 204), None, headers
    if isinstance(result, ApiResponse):
        headers.update({k.lower(): str(v) for k, v in result.headers.items()})
        return result.status, result.body, headers
    status = result.get("status", result.get("status_code")) if isinstance(result, dict) else None
    # {"status": "ok", ...} is a body that happens to have a "status" key, not an envelope.
    if isinstance(status, int) and not isinstance(status, bool):
        headers.update({k.lower(): str(v) for k, v in (result.get("headers") or {}).items()})
        return status, result.get("body"), headers
    return response.declared_status, result, headers


def _encode(body: Any) -> tuple[bytes, bytes | None]:
    """The payload and its content type."""
    if body is None:
        return b"", None
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body), b"application/octet-stream"
    if isinstance(body, str):
        return body.encode(), b"text/plain; charset=utf-8"
    return pydantic_core.to_json(body), _JSON


def _plain(body: Any) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True)
    return body


async def _send_whole(
    send: Send, status: int, raw: list[tuple[bytes, bytes]], payload: bytes, trace_id: str
) -> None:
    """One whole response; ``raw`` gets the length and the trace id appended."""
    raw.append((b"content-length", str(len(payload)).encode()))
    raw.append((b"x-trace-id", trace_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


async def send_json(
    send: Send, status: int, body: Any, trace_id: str, *, close: bool = False
) -> None:
    raw = [(b"content-type", _JSON)]
    if close:
        raw.append((b"connection", b"close"))
    await _send_whole(send, status, raw, pydantic_core.to_json(body), trace_id)
