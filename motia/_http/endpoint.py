"""From HTTP triggers to ASGI endpoints: the per-request adapter.

Each HTTP trigger becomes one ``StepEndpoint``, a raw ASGI callable that reads the
request (``request``), builds ``MotiaHttpArgs`` and the context, runs the middleware
chain and the handler, and hands what it returned, or how it failed, to the response
(``response``). Everything that can be decided once is decided when the app is built.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

import anyio

from motia._core.asgi import Message, Receive, Scope, Send
from motia._core.json import jsonable
from motia._core.spans import Tracing
from motia._core.tracing import trace_id_from
from motia._http.cancellation import HandlerCancellation
from motia._http.handler_task import HandlerTask, asks_for_event_stream
from motia._http.host import HttpHost
from motia._http.read_deadlines import ReadDeadlines
from motia._http.request import (
    MotiaHttpArgs,
    MotiaHttpRequest,
    RequestBody,
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
from motia.exceptions import (
    ClientGone,
    QueueFull,
    RequestRefused,
    SchemaValidationError,
    UnencodableBody,
)

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
        self.body_budget = runtime.body_budget
        self.read_deadlines = ReadDeadlines(self.settings.body_timeout)
        self.response_schemas = {
            int(status): compile_schema(schema)
            for status, schema in (trigger.response_schema or {}).items()
        }
        self.response_check: ResponseCheck | None = (
            self._check_response if self.response_schemas and self.settings.dev else None
        )
        self.route = trigger.path
        self.tracing = runtime.tracing
        self.metrics = runtime.metrics
        self.counts = (
            None if self.metrics is None else self.metrics.endpoint(route.step.name, trigger.method)
        )
        self.observed = self.tracing is not None or self.metrics is not None
        self.middleware = tuple(trigger.middleware or ())
        self.condition = trigger.condition
        interval = trigger.heartbeat_interval
        self.streaming = StreamOptions(
            heartbeat_interval=self.settings.heartbeat_interval if interval is None else interval,
            policy=SendPolicy.from_settings(self.settings, runtime.stats, trigger.send_timeout),
            open_responses=runtime.responses,
        )

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # The coroutine that serves, not one of ours around it: a streaming handler's every
        # wake-up passes through each level of the chain.
        try:
            headers = decode_headers(scope["headers"], self.settings)
        except RequestRefused as refusal:
            return self._refuse(refusal, send, trace_id_from({}), scope)
        if self.observed:
            return self._observe(scope, receive, send, headers)
        return self._serve(scope, receive, send, headers, trace_id_from(headers))

    def _serve(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], trace_id: str
    ) -> Awaitable[None]:
        if has_body(headers, scope):
            return self._serve_with_body(scope, receive, send, headers, trace_id)
        # Nothing to read or give back: the handler runs without a coroutine of ours around it.
        try:
            request = parse_request(
                scope, headers, _NO_BODY, self.body_schema, self.settings.max_form_fields
            )
        except RequestRefused as refusal:
            return self._refuse(refusal, send, trace_id, scope)
        return self._start(request, receive, send, trace_id)

    async def _observe(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        """Serve inside the request's span, timed and counted by status."""
        started = time.perf_counter()
        observed = ObservedSend(send)
        try:
            if self.tracing is None:
                await self._serve(scope, receive, observed, headers, trace_id_from(headers))
                return
            request = (self.step_name, scope["method"], self.route, scope["path"], headers)
            with self.tracing.request(*request) as span:
                observed.traceparent = self.tracing.traceparent()
                await self._serve(scope, receive, observed, headers, Tracing.trace_id(span))
                observed.record_on(span)
        finally:
            if self.counts is not None and observed.status:
                self.counts.answered(observed.status, time.perf_counter() - started)

    async def _serve_with_body(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], trace_id: str
    ) -> None:
        body = _NO_BODY
        try:
            try:
                body = await read_body(
                    receive,
                    headers,
                    self.settings.max_body_size,
                    self.body_budget,
                    self.read_deadlines,
                )
                request = parse_request(
                    scope, headers, body, self.body_schema, self.settings.max_form_fields
                )
                form = request.pending_form
                if form is not None and form.large:
                    await anyio.to_thread.run_sync(form.decode)  # it would hold the loop
            except ClientGone:
                return  # a partial body must not reach the handler, and nobody awaits a reply
            except RequestRefused as refusal:
                await self._refuse(refusal, send, trace_id, scope)
                return
            await self._start(request, receive, send, trace_id)
        finally:
            if body.size:
                self.body_budget.give_back(body.size)

    def _start(
        self, request: MotiaHttpRequest[Any], receive: Receive, send: Send, trace_id: str
    ) -> Awaitable[None]:
        """The handler's run for ``request``, with its response, arguments and context."""
        response = MotiaHttpResponse(send, receive, trace_id, self.streaming)
        args = MotiaHttpArgs(request, response)
        ctx = self.runtime.context(self.step_name, self.trigger_info, trace_id, args)
        if self.counts is not None:
            self.counts.ran()
        return self._run(args, ctx, response)

    async def _refuse(
        self, refusal: RequestRefused, send: Send, trace_id: str, scope: Scope
    ) -> None:
        if refusal.limit is not None:
            client = scope.get("client")
            where = f"{scope['method']} {scope['path']} from {client[0] if client else '?'}"
            self._limit_hit(refusal, where)
        await send_json(send, refusal.status, refusal.error, trace_id, close=refusal.close)

    def _limit_hit(self, refusal: RequestRefused, where: str) -> None:
        """One log line and one count for a request refused by a limit."""
        assert refusal.limit is not None
        self.runtime.stats.hit(refusal.limit)
        log.warning(
            "%s refused with %d: %s (%s=%s)", where, refusal.status, refusal.error["error"],
            refusal.limit, getattr(self.settings, refusal.limit),
        )  # fmt: skip

    async def _run(self, args: MotiaHttpArgs[Any], ctx: Any, response: MotiaHttpResponse) -> None:
        # ctx is the current context while the handler runs, and reset before anything is
        # sent back: a timer the server starts then (keep-alive) copies the context and
        # would keep the whole request alive with it. Set here rather than in a coroutine
        # of its own, which a streaming handler's every wake-up would pass through.
        token = current_context.set(ctx)
        handler = self._invoke(args, ctx)
        own_task = None
        if asks_for_event_stream(args.request.headers) and asyncio.iscoroutine(handler):
            own_task = HandlerTask(handler)  # started in a copy of the context, ctx included
            current_context.reset(token)
        runner = asyncio.current_task() if own_task is None else own_task.task
        cancellation = HandlerCancellation(runner)
        response.bind(cancellation.cancel, None if own_task is None else own_task.want_watching)
        try:
            try:
                if own_task is not None:
                    result = await own_task.outcome(response.watch_client)
                else:
                    try:
                        result = await handler
                    finally:
                        current_context.reset(token)
            except asyncio.CancelledError:
                if not cancellation.settle(cancelled=True):
                    raise
                await response.finish()
                return
            except Exception as exc:
                cancellation.settle()
                await self._failed(exc, args, response, ctx)
                return
            cancellation.settle()
            try:
                await response.send_result(result, self.response_check)
            except UnencodableBody as exc:
                await self._failed(exc, args, response, ctx)
        finally:
            response.release()

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

    async def _failed(
        self, exc: Exception, args: MotiaHttpArgs[Any], response: MotiaHttpResponse, ctx: Any
    ) -> None:
        if isinstance(exc, QueueFull):  # counted and logged by the queue's admission
            retry_after = (b"retry-after", str(exc.retry_after).encode())
            await response.send_failure(exc.error, exc.status, [retry_after])
            return
        if isinstance(exc, RequestRefused):  # a form body over its limit, read by the handler
            if exc.limit is not None:
                self._limit_hit(exc, f"{args.request.method} {args.request.path}")
            await response.send_failure(exc.error, exc.status)
            return
        ctx.logger.exception(f"handler failed: {type(exc).__name__}: {exc}")
        if self.tracing is not None:
            self.tracing.failed(exc)
        if self.metrics is not None:
            self.metrics.step_error(self.step_name, "http")
        message = f"{type(exc).__name__}: {exc}" if self.settings.dev else "Internal Server Error"
        await response.send_failure({"error": message})

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


_NO_BODY = RequestBody([])


def _compile(schema: Any) -> Schema | None:
    return None if schema is None else compile_schema(schema)


class ObservedSend:
    """The server's ``send``, noting the status and adding the ``traceparent`` header."""

    __slots__ = ("send", "status", "traceparent")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 0
        self.traceparent: str | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            if self.traceparent is not None:
                extra = (b"traceparent", self.traceparent.encode())
                message = {**message, "headers": [*message["headers"], extra]}
        await self.send(message)

    def record_on(self, span: Any) -> None:
        """Record the status on the request's span; a 5xx marks it failed."""
        if not self.status:
            return
        span.set_attribute("http.response.status_code", self.status)
        if self.status >= 500:
            Tracing.set_error(span, f"HTTP {self.status}")
