"""From HTTP triggers to ASGI endpoints: the per-request adapter.

Each HTTP trigger becomes one ``StepEndpoint``, a raw ASGI callable that reads the
request (``request``), builds ``MotiaHttpArgs`` and the context, runs the middleware
chain and the handler, and hands what it returned, or how it failed, to the response
(``response``). Everything that can be decided once is decided when the app is built.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from motia._core.asgi import Receive, Scope, Send
from motia._core.json import jsonable
from motia._core.tracing import trace_id_from
from motia._http.cancellation import HandlerCancellation
from motia._http.host import HttpHost
from motia._http.request import (
    MotiaHttpArgs,
    decode_headers,
    has_body,
    parse_request,
    read_body,
)
from motia._http.response import (
    ApiResponse,
    MotiaHttpResponse,
    ResponseCheck,
    StreamOptions,
    send_json,
)
from motia._project.handlers import caller
from motia._project.registry import HttpRoute
from motia._project.schema import Schema, compile_schema
from motia._project.triggers import TriggerInfo
from motia._runtime.current import current_context
from motia._runtime.invoke import condition_met, maybe_await
from motia._sending.sender import SendPolicy
from motia.exceptions import ClientGone, RequestRefused, SchemaValidationError, UnencodableBody

__all__ = ["StepEndpoint"]

log = logging.getLogger("motia.http")


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
        self.body_limit = self.settings.max_body_size
        self.response_schemas = {
            int(status): compile_schema(schema)
            for status, schema in (trigger.response_schema or {}).items()
        }
        self.response_check: ResponseCheck | None = (
            self._check_response if self.response_schemas and self.settings.dev else None
        )
        self.middleware = tuple(trigger.middleware or ())
        self.condition = trigger.condition
        interval = trigger.heartbeat_interval
        self.streaming = StreamOptions(
            heartbeat_interval=self.settings.heartbeat_interval if interval is None else interval,
            policy=SendPolicy.from_settings(self.settings, runtime.stats, trigger.send_timeout),
            open_responses=runtime.responses,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = decode_headers(scope["headers"])
        trace_id = trace_id_from(headers)
        try:
            chunks = (
                await read_body(receive, self.body_limit, headers)
                if has_body(headers, scope)
                else []
            )
            request = parse_request(scope, headers, chunks, self.body_schema)
        except ClientGone:
            return  # a partial body must not reach the handler, and nobody awaits a reply
        except RequestRefused as refusal:
            await send_json(send, refusal.status, refusal.error, trace_id, close=refusal.close)
            return
        response = MotiaHttpResponse(send, receive, trace_id, self.streaming)
        args = MotiaHttpArgs(request, response)
        ctx = self.runtime.context(self.step_name, self.trigger_info, trace_id, args)
        await self._run(args, ctx, response)

    async def _run(self, args: MotiaHttpArgs[Any], ctx: Any, response: MotiaHttpResponse) -> None:
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
                await self._failed(exc, response, ctx)
                return
            cancellation.settle()
            try:
                await response.send_result(result, self.response_check)
            except UnencodableBody as exc:
                await self._failed(exc, response, ctx)
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
        if not await condition_met(self.condition, args.request, ctx):
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

    async def _failed(self, exc: Exception, response: MotiaHttpResponse, ctx: Any) -> None:
        ctx.logger.exception(f"handler failed: {type(exc).__name__}: {exc}")
        message = f"{type(exc).__name__}: {exc}" if self.settings.dev else "Internal Server Error"
        await response.send_failure(message)

    def _check_response(self, status: int, body: Any, trace_id: str) -> None:
        schema = self.response_schemas.get(status)
        if schema is None:
            return
        try:
            schema.validate(jsonable(body))
        except SchemaValidationError as exc:
            log.warning(
                "step %r returned a %d body that does not match its response_schema: %s",
                self.step_name, status, exc, extra={"trace_id": trace_id},
            )  # fmt: skip


def _compile(schema: Any) -> Schema | None:
    return None if schema is None else compile_schema(schema)
