"""``Console``: the dev console's routes under ``/__motia/console`` and its lifecycle.

Built by ``Motia`` only when ``Settings.console`` is on (``motia dev``, or
``motia start --console``). While the app runs, it listens to the ``motia``
logger and the store's change feed and publishes both to the pages following
them (``LiveView``); the JSON endpoints read the registry, the store and the
queue service on demand.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, request_response
from starlette.staticfiles import StaticFiles

from motia._core.json import dumps_lenient
from motia._project.registry import Registry
from motia._runtime.lifespan import Runtime
from motia._runtime.streams import stream_namespace
from motia._sending.sender import SendPolicy
from motia.backends.base import Change, Ephemeral, FeedMessage
from motia.console.access import TOKEN_COOKIE, ConsoleAccess, Guarded
from motia.console.data import change_frame, state_snapshot, stream_snapshot, subscriber_counts
from motia.console.describe import describe_endpoints, describe_flows
from motia.console.events import LiveEvents, LiveView
from motia.console.log_feed import LogFeed
from motia.console.log_history import load_history, save_history
from motia.console.queue_view import queue_overview, replay_dead_letters
from motia.console.runs import RunRecorder, record_runs
from motia.console.span_view import SpanView
from motia.sse import encode_event

__all__ = ["PREFIX", "Console"]

PREFIX = "/__motia/console"
STATIC = Path(__file__).parent / "static"
_LOGGER = "motia"


class Console:
    """The console of one app: its log and change feeds, recorded runs, and routes."""

    prefix = PREFIX

    def __init__(
        self,
        registry: Registry,
        runtime: Runtime,
        project_dir: Path,
        history: Path | None = None,
    ) -> None:
        self.registry = registry
        self.runtime = runtime
        self.project_dir = project_dir
        self.hub = runtime.hub
        self.policy = SendPolicy.from_settings(runtime.settings, self.hub.stats)
        self.events = LiveView()
        self.changes = LiveView()
        self.logs = LogFeed(self.events)
        self.runs = RunRecorder(self.events)
        record_runs(registry.steps, self.runs)
        settings = runtime.settings
        self.access = ConsoleAccess(settings.console_hosts, settings.console_token)
        self.hidden = set() if _reveals_protected(runtime) else protected_streams(registry, runtime)
        self._hello = encode_event(dumps_lenient({"session": self.access.session}), event="hello")
        self.history = history
        self.spans = SpanView()
        provider: Any = runtime.tracing.provider if runtime.tracing is not None else None
        if hasattr(provider, "add_span_processor"):  # an SDK provider: it takes processors
            provider.add_span_processor(self.spans)
        self._restore_level: int | None = None

    # -- lifecycle --------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Listen to the logs and the store's changes while the app serves."""
        self.events.start()
        self.changes.start()
        if self.history is not None:
            load_history(self.logs, self.history)
        for error in self.registry.errors:
            self.logs.note(logging.ERROR, str(error), logger="motia")
        self._attach_logs()
        unsubscribe = self.runtime.store.feed.subscribe(self._on_change)
        try:
            yield
        finally:
            unsubscribe()
            self._detach_logs()
            if self.history is not None:
                save_history(self.logs, self.history)
            self.events.shutdown()
            self.changes.shutdown()

    def _attach_logs(self) -> None:
        logger = logging.getLogger(_LOGGER)
        logger.addHandler(self.logs)
        # Info lines are what the console is for; an unconfigured logger would drop them.
        if logger.getEffectiveLevel() > logging.INFO:
            self._restore_level = logger.level
            logger.setLevel(logging.INFO)

    def _detach_logs(self) -> None:
        logger = logging.getLogger(_LOGGER)
        logger.removeHandler(self.logs)
        if self._restore_level is not None:
            logger.setLevel(self._restore_level)
            self._restore_level = None

    def _on_change(self, message: FeedMessage) -> None:
        if isinstance(message, Change | Ephemeral) and message.namespace in self._hidden_spaces:
            return
        self.changes.publish(change_frame(message))

    @functools.cached_property
    def _hidden_spaces(self) -> frozenset[str]:
        return frozenset(stream_namespace(name) for name in self.hidden)

    # -- routes -----------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        api = [
            ("/flows", self.flows),
            ("/endpoints", self.endpoints),
            ("/logs", self.log_lines),
            ("/logs/stream", self.log_stream),
            ("/traces", self.traces),
            ("/traces/{trace_id}", self.trace),
            ("/state", self.state),
            ("/streams", self.streams),
            ("/subscribers", self.subscribers),
            ("/changes/stream", self.change_stream),
            ("/queues", self.queues),
            ("/spans", self.spans.list_route),
            ("/spans/{trace_id}", self.spans.trace_route),
        ]
        static = StaticFiles(directory=STATIC)
        return [
            self._route(PREFIX, self.page),
            self._route(PREFIX + "/", self.page),
            *(self._route(f"{PREFIX}/api{path}", endpoint) for path, endpoint in api),
            self._route(f"{PREFIX}/api/queues/replay", self.replay, "POST"),
            Mount(PREFIX + "/static", Guarded(self.access, static), name="console-static"),
        ]

    def _route(self, path: str, endpoint: Any, method: str = "GET") -> Route:
        """A route served only to requests ``self.access`` lets through."""
        return Route(path, Guarded(self.access, request_response(endpoint)), methods=[method])

    async def page(self, request: Request) -> Response:
        base = request.scope.get("root_path", "") + PREFIX
        if "token" in request.query_params:
            return self._keep_token(request, base)
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        html = html.replace("__BASE__", base).replace("__SESSION__", self.access.session)
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    def _keep_token(self, request: Request, base: str) -> Response:
        """Move the token from the address to a cookie, so it leaves no trace in history."""
        response = RedirectResponse(base + "/", status_code=303)
        token = request.query_params["token"]
        response.set_cookie(TOKEN_COOKIE, token, path=base, httponly=True, samesite="lax")
        return response

    async def flows(self, request: Request) -> Response:
        return JSONResponse(describe_flows(self.registry, self.project_dir))

    async def endpoints(self, request: Request) -> Response:
        return JSONResponse(describe_endpoints(self.registry))

    async def log_lines(self, request: Request) -> Response:
        lines = self.logs.recent(request.query_params.get("trace_id"))
        return Response("[" + ",".join(lines) + "]", media_type="application/json")

    async def log_stream(self, request: Request) -> Response:
        def backlog() -> list[bytes]:
            lines = [encode_event(line, event="log") for line in self.logs.recent()]
            return [self._hello, *lines]

        return LiveEvents(self.events, backlog, self.hub, self.policy)

    async def traces(self, request: Request) -> Response:
        traces: dict[str, list[dict[str, Any]]] = {}
        for run in self.runs.all_runs():
            traces.setdefault(run.trace_id, []).append(run.as_dict())
        summary = [{"trace_id": t, "runs": runs} for t, runs in traces.items()]
        return JSONResponse(summary[::-1])

    async def trace(self, request: Request) -> Response:
        trace_id = request.path_params["trace_id"]
        runs = [run.as_dict() for run in self.runs.runs(trace_id)]
        logs = "[" + ",".join(self.logs.recent(trace_id)) + "]"
        head = dumps_lenient({"trace_id": trace_id, "runs": runs})[:-1]
        # The log lines are already JSON text: joined in, not decoded and encoded again.
        return Response(f'{head},"logs":{logs}}}', media_type="application/json")

    async def state(self, request: Request) -> Response:
        return JSONResponse(await state_snapshot(self.runtime.store))

    async def streams(self, request: Request) -> Response:
        names = sorted(self.registry.streams)
        snapshot = await stream_snapshot(self.runtime.store, names, self.hub, self.hidden)
        return JSONResponse(snapshot)

    async def subscribers(self, request: Request) -> Response:
        return JSONResponse(subscriber_counts(self.hub, self.hidden))

    async def change_stream(self, request: Request) -> Response:
        return LiveEvents(self.changes, list, self.hub, self.policy)

    async def queues(self, request: Request) -> Response:
        steps, runs = self.registry.steps, self.runs.all_runs()
        return JSONResponse(await queue_overview(self.runtime, steps, runs))

    async def replay(self, request: Request) -> Response:
        body = await request.json()
        ids = None if body.get("all") else [str(i) for i in body.get("ids") or []]
        return JSONResponse({"replayed": await replay_dead_letters(self.runtime, ids)})


def protected_streams(registry: Registry, runtime: Runtime) -> set[str]:
    """Streams whose readers the app checks: every one under ``stream_auth``, else those
    with an ``on_join`` hook."""
    if runtime.stream_auth is not None:
        return set(registry.streams)
    return {name for name, config in registry.streams.items() if config.on_join is not None}


def _reveals_protected(runtime: Runtime) -> bool:
    """Dev mode (the developer's own data) or an operator's token: protected streams shown."""
    return runtime.settings.dev or runtime.settings.console_token is not None
