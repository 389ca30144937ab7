"""``Motia``: discover, validate and serve a project's steps as an ASGI app."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp

from motia._core.spans import tracing_for
from motia._core.tracing import trace_id_from
from motia._http.access_log import AccessLog
from motia._http.asgi_app import MotiaStarlette
from motia._http.endpoint import StepEndpoint
from motia._http.health import health_routes
from motia._http.metrics_route import metrics_routes
from motia._http.mounting import mount_routes
from motia._http.openapi import openapi_document, openapi_route
from motia._http.response import JSONResponse
from motia._project.config import parse_step_config
from motia._project.layout import misnamed_steps
from motia._project.loader import load_project, load_project_config
from motia._project.registry import Registry
from motia._project.step import Step, StepDefinition
from motia._project.stream_config import StreamConfig
from motia._realtime.access import warn_unprotected_streams
from motia._realtime.routes import stream_routes
from motia._runtime.lifespan import Runtime
from motia._runtime.stats import GAUGES, Stats
from motia.backends.base import Store
from motia.backends.memory_queue import MemoryQueue
from motia.backends.queue import QueueBackend
from motia.backends.selection import build_store, database_path
from motia.backends.sqlite import SQLiteStore
from motia.backends.sqlite_queue import SQLiteQueue
from motia.exceptions import BuildError, ConfigError, StepError
from motia.settings import Settings

if TYPE_CHECKING:
    from motia._core.metrics import Metrics
    from motia.console import Console

__all__ = ["Motia"]

log = logging.getLogger("motia")
project_log = logging.getLogger("motia.project")


class Motia:
    """An app built from a steps folder (and/or steps given as Python objects).

    Outside dev mode any problem fails the build with every error listed at
    once (``BuildError``); in dev mode broken files are reported in
    ``errors`` and the rest is served.
    """

    openapi_url: str | None = "/openapi.json"
    """Where ``routes()`` serves the OpenAPI document; ``None`` leaves it out."""

    def __init__(
        self,
        steps_dir: str | Path | None = "steps",
        *,
        steps: Iterable[StepDefinition | Step] = (),
        streams: Iterable[StreamConfig | dict[str, Any]] = (),
        settings: Settings | None = None,
        dev: bool | None = None,
        project_dir: str | Path | None = None,
        store: Store | str | None = None,
        stream_auth: Any = None,
        queue: QueueBackend | str | None = None,
        redis_url: str | None = None,
        redis_prefix: str | None = None,
        tracer_provider: Any = None,
    ) -> None:
        settings = settings or Settings()
        if dev is not None:
            settings = replace(settings, dev=dev)
        self.settings = settings
        self.project_dir = Path(project_dir) if project_dir else Path.cwd()
        self.roots = _roots(self.project_dir, steps_dir)
        self.registry = self._build(steps, streams)
        backend = _store(store, self.project_dir, redis_url, redis_prefix)
        stream_auth = stream_auth or getattr(self.project_config, "stream_auth", None)
        queue_backend = _queue(queue, backend, self.project_dir, redis_url, redis_prefix)
        self.runtime = Runtime(
            self.registry,
            settings,
            backend,
            stream_auth,
            queue_backend,
            tracing=tracing_for(tracer_provider),
            metrics=_metrics() if settings.metrics else None,
        )
        self._app: Starlette | None = None
        self.console: Console | None = _console(self) if settings.console else None

    @property
    def errors(self) -> list[StepError]:
        return self.registry.errors

    def _build(
        self,
        definitions: Iterable[StepDefinition | Step],
        stream_configs: Iterable[StreamConfig | dict[str, Any]],
    ) -> Registry:
        loaded = load_project(self.roots)
        for path, name in misnamed_steps(self.roots):
            project_log.warning(
                "%s looks like a step but is not loaded: a step file's name ends with "
                ".step.py; rename it to %s",
                StepError.at(path, "").file,
                name,
            )
        self.project_config = load_project_config(self.project_dir, loaded) if self.roots else None
        registry = Registry(errors=list(loaded.errors))
        registry.add_files(loaded.steps)
        for definition in definitions:
            built = _to_step(definition, registry)
            if built is not None:
                registry.add_step(built)
        streams = [*loaded.streams, *((config, None) for config in stream_configs)]
        for config, file_path in streams:
            try:
                registry.add_stream(StreamConfig.from_value(config), file_path)
            except (TypeError, ValueError) as exc:
                registry.errors.append(StepError.at(file_path, str(exc)))
        if registry.errors:
            if not self.settings.dev:
                raise BuildError(registry.errors)
            for error in registry.errors:
                log.error("%s", error)
        return registry

    def routes(self) -> list[BaseRoute]:
        """Starlette routes for every HTTP trigger (methods listed once per route)."""
        return self._routes(stream_routes(self.runtime))

    def _routes(self, streams: list[BaseRoute]) -> list[BaseRoute]:
        http_routes = sorted(self.registry.http_routes(), key=lambda r: r.method != "HEAD")
        step_routes: list[BaseRoute] = [
            Route(r.path, StepEndpoint(r, self.runtime), methods=[r.method]) for r in http_routes
        ]
        if self.openapi_url:
            step_routes.append(openapi_route(self.openapi_url, self._served_openapi))
        routes = health_routes(self.runtime) + step_routes + streams
        if self.runtime.metrics is not None:
            routes = metrics_routes(self.runtime) + routes
        return routes if self.console is None else [*self.console.routes(), *routes]

    def mount(self, app: Starlette, prefix: str = "") -> None:
        """Serve this app's routes from ``app`` (Starlette or FastAPI) under ``prefix``.

        The runtime (queues, cron, streams) starts and stops with ``app``'s lifespan.
        """
        mount_routes(app, self.routes(), self.lifespan, prefix)

    def openapi(
        self,
        *,
        title: str = "Motia API",
        version: str = "0.1.0",
        servers: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The OpenAPI 3.1 document describing every HTTP trigger."""
        routes = self.registry.http_routes()
        return openapi_document(routes, title=title, version=version, servers=servers)

    def _served_openapi(self, prefix: str) -> dict[str, Any]:
        return self.openapi(servers=[{"url": prefix}] if prefix else None)

    def asgi(self) -> Starlette:
        """The app as a Starlette application with its lifespan (built once)."""
        if self._app is None:
            streams = stream_routes(self.runtime)
            self._app = MotiaStarlette(
                routes=self._routes(streams),
                stream_socket=_stream_socket(streams),
                stream_events=_stream_events(streams),
                http_host=self.runtime,
                access_log=self._access_log(),
                lifespan=self._lifespan,
                exception_handlers={HTTPException: _http_error},
            )
            self._app.state.motia = self
        return self._app

    def _access_log(self) -> AccessLog | None:
        if not self.settings.access_log:
            return None
        return AccessLog(quiet_prefixes=() if self.console is None else (self.console.prefix,))

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run everything long-lived (backends, queues, cron, streams, console) while open."""
        console: AbstractAsyncContextManager[None] = (
            nullcontext() if self.console is None else self.console.running()
        )
        warn_unprotected_streams(self.registry.streams.values(), self.runtime.stream_auth)
        async with self.runtime.lifespan(), console:
            yield

    @asynccontextmanager
    async def _lifespan(self, app: Any) -> AsyncIterator[None]:
        async with self.lifespan():
            yield

    def route_table(self) -> list[tuple[str, str, str, str]]:
        """(method, path, step, flows) for every HTTP trigger, sorted by path."""
        rows = [
            (r.method, r.trigger.path, r.step.name, ", ".join(r.step.config.flows))
            for r in self.registry.http_routes()
        ]
        return sorted(rows, key=lambda row: (row[1], row[0]))


def _metrics() -> Metrics:
    from motia._core.metrics import Metrics  # only apps that count load the client library

    return Metrics(counters=[n for n in Stats.__slots__ if n not in GAUGES], gauges=GAUGES)


def _console(motia: Motia) -> Console:
    from motia.console import Console  # only apps that serve the console load it
    from motia.console.log_history import HISTORY_FILE

    # In dev the Logs tab outlives a reload, when there is a project on disk to keep it in.
    on_disk = motia.settings.dev and any(root.is_dir() for root in motia.roots)
    history = motia.project_dir / HISTORY_FILE if on_disk else None
    return Console(motia.registry, motia.runtime, motia.project_dir, history)


def _stream_socket(streams: list[BaseRoute]) -> ASGIApp:
    """The WebSocket endpoint the stream routes share (``/`` and ``/streams``)."""
    return next(route.app for route in streams if isinstance(route, WebSocketRoute))


def _stream_events(streams: list[BaseRoute]) -> ASGIApp:
    """The endpoint of the stream event subscriptions (``/streams/<name>/<group>[/<id>]``)."""
    return next(route.app for route in streams if isinstance(route, Route))


def _roots(project_dir: Path, steps_dir: str | Path | None) -> list[Path]:
    if steps_dir is None:
        return []
    roots = [project_dir / steps_dir]
    src = project_dir / "src"
    if src.is_dir() and src not in roots:
        roots.append(src)
    return roots


def _store(
    store: Store | str | None, project_dir: Path, redis_url: str | None, redis_prefix: str | None
) -> Store:
    """A Store instance as given, else by name; no name: Redis if a URL is configured."""
    if isinstance(store, Store):
        return store
    return build_store(store, project_dir, url=redis_url, prefix=redis_prefix)


def _queue(
    queue: QueueBackend | str | None,
    store: Store,
    project_dir: Path,
    redis_url: str | None = None,
    redis_prefix: str | None = None,
) -> QueueBackend:
    """By default the queue lives where the state does: the same SQLite file, Redis, or memory."""
    if isinstance(queue, QueueBackend):
        return queue
    if queue is None:
        queue = "sqlite" if isinstance(store, SQLiteStore) else _default_queue(store)
    if queue == "memory":
        return MemoryQueue()
    if queue == "sqlite":
        if isinstance(store, SQLiteStore):
            return SQLiteQueue.beside(store)
        return SQLiteQueue(database_path(project_dir))
    if queue == "redis":
        from motia.backends.redis_queue import RedisQueue

        return RedisQueue.beside(store, redis_url, redis_prefix)
    raise ValueError(f'queue must be "sqlite", "memory", "redis" or a QueueBackend, got {queue!r}')


def _default_queue(store: Store) -> str:
    # A RedisStore means its module is loaded; checking there keeps Redis an optional import.
    module = sys.modules.get("motia.backends.redis")
    return "redis" if module is not None and isinstance(store, module.RedisStore) else "memory"


def _to_step(definition: StepDefinition | Step, registry: Registry) -> Step | None:
    if isinstance(definition, Step):
        return definition
    try:
        config = parse_step_config(definition.config)
    except ConfigError as exc:
        registry.errors.append(StepError.at(None, str(exc)))
        return None
    return Step(config, definition.handler, None)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    trace_id = trace_id_from({k.lower(): v for k, v in request.headers.items()})
    headers = {**(exc.headers or {}), "x-trace-id": trace_id}
    body = {"error": exc.detail, "trace_id": trace_id}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)
