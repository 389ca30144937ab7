"""From HTTP triggers to ASGI endpoints: the per-request adapter.

Each HTTP trigger becomes one ``StepEndpoint``, a raw ASGI callable that reads
and validates the body, builds ``MotiaHttpArgs`` and the context, runs the
middleware chain and the handler, and sends what the handler returned or
streamed. Everything that can be decided once is decided when the app is built.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

import anyio
import pydantic_core
from pydantic import BaseModel

from motia.bodies import (
    BodyTooLarge,
    ClientGone,
    MalformedBody,
    parse_body,
    parse_query,
    read_body,
)
from motia.context import TriggerInfo
from motia.current import current_context
from motia.invoke import call_handler
from motia.registry import HttpRoute
from motia.requests import MotiaHttpArgs, MotiaHttpRequest, RequestBody
from motia.responses import ApiResponse, MotiaHttpResponse
from motia.runtime import Runtime
from motia.schema import Schema, SchemaValidationError, compile_schema
from motia.tracing import trace_id_from
from motia.wire import Receive, Scope, Send, decode_headers, encode_headers, end_to_end

__all__ = ["StepEndpoint", "send_json"]

log = logging.getLogger("motia.http")

_JSON = "application/json"


class StepEndpoint:
    def __init__(self, route: HttpRoute, runtime: Runtime) -> None:
        trigger = route.trigger
        self.step_name = route.step.name
        self.handler = route.step.handler
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
        self.heartbeat = self.settings.heartbeat_interval if interval is None else interval

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = decode_headers(scope["headers"])
        trace_id = trace_id_from(headers)
        try:
            chunks = await read_body(
                receive, self.settings.max_body_size, headers.get("content-length")
            )
            body = self._parse(headers.get("content-type", ""), chunks)
        except ClientGone:
            return  # a partial body must not reach the handler, and nobody awaits a reply
        except BodyTooLarge as exc:
            message = {"error": "Request body too large", "limit": exc.limit}
            await send_json(send, 413, message, trace_id, close=True)
            return
        except MalformedBody as exc:
            await send_json(send, 400, {"error": str(exc)}, trace_id)
            return
        except SchemaValidationError as exc:
            message = {"error": "Request body validation failed", "errors": exc.as_list()}
            await send_json(send, 400, message, trace_id)
            return
        request: MotiaHttpRequest[Any] = MotiaHttpRequest(
            method=scope["method"],
            path=scope["path"],
            path_params={k: str(v) for k, v in scope.get("path_params", {}).items()},
            query_params=parse_query(scope["query_string"].decode("latin-1")),
            headers=headers,
            body=body,
            request_body=RequestBody(chunks),
        )
        response = MotiaHttpResponse(
            send,
            receive,
            trace_id,
            heartbeat_interval=self.heartbeat,
            max_buffer=self.settings.max_stream_buffer,
            stats=self.runtime.stats,
        )
        args = MotiaHttpArgs(request, response)
        ctx = self.runtime.context(self.step_name, self.trigger_info, trace_id, args)
        await self._run(args, ctx, response, send)

    def _parse(self, content_type: str, chunks: list[bytes]) -> Any:
        raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        body = parse_body(content_type, raw)
        if self.body_schema is not None:
            return self.body_schema.validate(body)
        return body

    async def _run(
        self, args: MotiaHttpArgs[Any], ctx: Any, response: MotiaHttpResponse, send: Send
    ) -> None:
        token = current_context.set(ctx)
        tracked = self.runtime.responses
        try:
            with anyio.CancelScope() as scope:
                response.bind(scope.cancel)
                tracked.add(response)
                try:
                    result = await self._invoke(args, ctx)
                except Exception as exc:
                    await self._failed(exc, response, ctx, send)
                    return
            if scope.cancelled_caught:
                await response.finish()
                return
            await self._respond(result, response, send)
        finally:
            tracked.discard(response)
            current_context.reset(token)

    async def _invoke(self, args: MotiaHttpArgs[Any], ctx: Any) -> Any:
        if self.condition is not None and not await _maybe_await(self.condition(args, ctx)):
            return ApiResponse(
                status=422, body={"error": "Request condition not met", "skipped": True}
            )
        if not self.middleware:
            return await call_handler(self.handler, args, ctx)
        return await self._chain(0, args, ctx)

    async def _chain(self, index: int, args: MotiaHttpArgs[Any], ctx: Any) -> Any:
        if index == len(self.middleware):
            return await call_handler(self.handler, args, ctx)

        def next_() -> Awaitable[Any]:
            return self._chain(index + 1, args, ctx)

        return await _maybe_await(self.middleware[index](args, ctx, next_))

    async def _respond(self, result: Any, response: MotiaHttpResponse, send: Send) -> None:
        if response.body_written or response.ended or (result is None and response.touched):
            await response.finish()
            return
        status, body, headers = _unpack(result, response)
        headers = end_to_end(headers)
        if self.response_schemas and self.settings.dev:
            self._check_response(status, body, response.trace_id)
        payload, content_type = _encode(body)
        if content_type and "content-type" not in headers:
            headers["content-type"] = content_type
        await _send_whole(send, status, headers, payload, response.trace_id)
        response.release()

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
        response.release()

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


def _compile(schema: Any) -> Schema | None:
    return None if schema is None else compile_schema(schema)


async def _maybe_await(value: Any) -> Any:
    if isinstance(value, Awaitable):
        return await value
    return value


def _unpack(result: Any, response: MotiaHttpResponse) -> tuple[int, Any, dict[str, str]]:
    headers = dict(response.declared_headers)
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


def _encode(body: Any) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body), "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return pydantic_core.to_json(body), _JSON


def _plain(body: Any) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True)
    return body


async def _send_whole(
    send: Send, status: int, headers: dict[str, str], payload: bytes, trace_id: str
) -> None:
    headers["content-length"] = str(len(payload))
    headers["x-trace-id"] = trace_id
    raw = encode_headers(headers)
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


async def send_json(
    send: Send, status: int, body: Any, trace_id: str, *, close: bool = False
) -> None:
    headers = {"content-type": _JSON}
    if close:
        headers["connection"] = "close"
    await _send_whole(send, status, headers, pydantic_core.to_json(body), trace_id)
