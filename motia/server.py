"""Running an app under uvicorn: the server, dev reload and the app factory.

``MotiaServer`` ends every open stream as soon as a shutdown signal arrives,
so that neither Ctrl+C, SIGTERM nor a dev reload waits on an open SSE or
WebSocket connection. The reloading supervisor builds the app anew in a fresh
process through ``app_from_env``, forked from a process that has imported motia
and uvicorn once; the options travel in environment variables.
``--workers N`` runs N such processes on one port under uvicorn's multiprocess
supervisor, and is refused unless they share a Redis backend; each of them ends
its open streams when its server begins to shut down (see ``host_shutdown``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import multiprocessing
import os
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.process import BaseProcess
from pathlib import Path
from socket import socket
from types import FrameType
from typing import Any

import uvicorn
from uvicorn._subprocess import subprocess_started
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.watchfilesreload import WatchFilesReload
from watchfiles import watch

from motia._core.hosts import is_loopback
from motia._http.server_protocol import LimitedHttpProtocol
from motia._project.layout import missing_steps, no_step_files
from motia._project.loader import LoadResult, load_project_config
from motia._project.step import Step
from motia._runtime.lifespan import shutdown_all
from motia._runtime.logs import configure_logging
from motia.app import Motia
from motia.backends.selection import URL_ENV, store_name
from motia.exceptions import BuildError, ServeError
from motia.settings import Settings

__all__ = [
    "CONSOLE_TOKEN_ENV",
    "MotiaServer",
    "ServeError",
    "ServeOptions",
    "SourceReload",
    "announce",
    "app_from_env",
    "check_console",
    "check_project",
    "check_workers",
    "is_project_source",
    "print_console",
    "print_routes",
    "route_lines",
    "serve",
    "serve_loaded",
    "share_metrics_between_workers",
]

log = logging.getLogger("motia")
CONSOLE_TOKEN_ENV = "MOTIA_CONSOLE_TOKEN"
_ENV = "MOTIA_SERVE_OPTIONS"
_METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Read by the metrics client when it loads (``motia._core.metrics``)."""
_NEVER_WATCHED = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
_PRELOADED = ["motia.server", "motia.console", "uvicorn.lifespan.on", "uvicorn.loops.auto",
              "uvicorn.protocols.websockets.auto"]  # fmt: skip
"""What every reloaded server process imports anyway: its forkserver imports it once."""
_WATCH_TIMEOUT_MS = 100
"""How long one look for changes waits before the reloader checks for its own exit."""


@dataclass
class ServeOptions:
    project_dir: str = "."
    steps_dir: str = "steps"
    host: str = "127.0.0.1"
    port: int = 3000
    dev: bool = False
    reload: bool = False
    log_format: str = "pretty"
    log_level: str = "info"
    store: str | None = None
    redis_url: str | None = None
    redis_prefix: str | None = None
    workers: int = 1
    settings: dict[str, Any] = field(default_factory=dict)
    announce: bool = True
    """Log the route table and the console address when the app is built."""

    def build(
        self,
        steps: Iterable[Step] = (),
        streams: Iterable[Any] = (),
        *,
        from_folder: bool = True,
        stream_auth: Any = None,
    ) -> Motia:
        """The app of the steps folder (``from_folder``) and of the steps and streams given."""
        return Motia(
            self.steps_dir if from_folder else None,
            steps=steps,
            streams=streams,
            project_dir=self.project_dir,
            settings=Settings(dev=self.dev, **self.settings),
            store=self.store,
            redis_url=self.redis_url,
            redis_prefix=self.redis_prefix,
            stream_auth=stream_auth,
        )


class MotiaServer(uvicorn.Server):
    """uvicorn's server, ending open streams at once on a signal; SIGTERM exits 0.

    A plain ``uvicorn.Server`` re-raises the signal it stopped on once shut down and
    its own handlers are gone, so that its host process dies of it (status 143).
    SIGTERM is how process managers ask a server to stop, and a clean stop is status
    0: while the server runs, the handler it restores for SIGTERM is one that lets
    the process go on to its end.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        shutdown_all()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            with super().capture_signals():  # which captures nothing off the main thread
                yield
            return
        previous = signal.signal(signal.SIGTERM, _stopped_as_asked)
        try:
            with super().capture_signals():
                yield
        finally:
            signal.signal(signal.SIGTERM, previous)


def _stopped_as_asked(sig: int, frame: FrameType | None) -> None:
    """SIGTERM re-raised once the server stopped on it: the stop was asked for."""


def app_from_env() -> Any:
    """The app factory the reloading supervisor imports in each fresh process."""
    options = ServeOptions(**json.loads(os.environ[_ENV]))
    configure_logging(options.log_format, options.log_level)  # type: ignore[arg-type]
    if not options.announce:  # the supervisor has warned about misnamed files already
        logging.getLogger("motia.project").setLevel(logging.ERROR)
    motia = options.build()
    if options.announce:
        announce(motia, options)
    return motia.asgi()


def announce(motia: Motia, options: ServeOptions) -> None:
    print_routes(motia, options.log_format)
    print_console(motia, options)


def route_lines(motia: Motia) -> list[str]:
    """The route table: method, path, step and flows, one line each."""
    rows = motia.route_table()
    width = max((len(path) for _, path, _, _ in rows), default=0)
    return [f"{method:<7} {path:<{width}}  {name}  [{flows}]" for method, path, name, flows in rows]


def print_routes(motia: Motia, log_format: str = "pretty") -> None:
    """Log the route table: a record per line in pretty logs, a structured one per route in JSON."""
    lines = route_lines(motia)
    if not lines:
        log.info("no HTTP steps found under %s", ", ".join(str(r) for r in motia.roots))
    elif log_format == "json":
        for method, path, step, flows in motia.route_table():
            flow_names = [flow for flow in flows.split(", ") if flow]
            route = {"method": method, "path": path, "step": step, "flows": flow_names}
            log.info("route %s %s", method, path, extra={"data": route, "step": step})
    else:
        log.info("routes:")
        for line in lines:
            log.info("  %s", line)


def print_console(motia: Motia, options: ServeOptions) -> None:
    if motia.console is None:
        return
    host = f"[{options.host}]" if ":" in options.host else options.host
    url = f"http://{host}:{options.port}{motia.console.prefix}"
    if motia.settings.console_token:
        log.info("console: %s (open it once with ?token=<your console token>)", url)
    else:
        log.info("dev console: %s", url)


def serve(options: ServeOptions) -> None:
    """Serve until interrupted; with ``reload``, restart on changes to step files."""
    check_workers(options)
    check_console(options)
    configure_logging(options.log_format, options.log_level)  # type: ignore[arg-type]
    check_project(options)
    if options.reload:
        _serve_reloading(options)
        return
    if options.workers > 1:
        _serve_workers(options)
        return
    _serve_app(options.build(), options)


def serve_loaded(loaded: LoadResult, options: ServeOptions) -> None:
    """Serve the steps and streams of files loaded already (``dist/index.py``), in one process."""
    check_console(options)
    configure_logging(options.log_format, options.log_level)  # type: ignore[arg-type]
    if options.workers > 1:
        raise ServeError(
            f"dist/index.py serves in one process; for --workers {options.workers} serve the "
            f"folder: motia start --dir {options.steps_dir} --workers {options.workers}"
        )
    project_config = load_project_config(Path(options.project_dir), loaded)
    if loaded.errors:
        raise BuildError(loaded.errors)
    motia = options.build(
        steps=loaded.steps,
        streams=[config for config, _ in loaded.streams],
        from_folder=False,
        stream_auth=getattr(project_config, "stream_auth", None),
    )
    _serve_app(motia, options)


def _serve_app(motia: Motia, options: ServeOptions) -> None:
    announce(motia, options)
    MotiaServer(_uvicorn_config(motia.asgi(), options)).run()


def _serve_reloading(options: ServeOptions) -> None:
    os.environ[_ENV] = json.dumps(asdict(options))
    config = _uvicorn_config("motia.server:app_from_env", options)
    config.factory = True
    config.reload = True
    config.reload_dirs = _watched_dirs(options)  # type: ignore[assignment]
    config.reload_delay = 0.1
    sock = config.bind_socket()
    SourceReload(config, target=MotiaServer(config).run, sockets=[sock]).run()


def check_project(options: ServeOptions) -> None:
    """Refuse a project without a steps folder, and (except in dev) one without a step file."""
    project = Path(options.project_dir)
    problem = missing_steps(project, options.steps_dir)
    if problem is None:
        problem = no_step_files(project, options.steps_dir)
        if problem is not None and options.dev:
            log.error("%s; serving anyway, new step files load as they appear", problem)
            return
    if problem is not None:
        raise ServeError(problem)


def check_workers(options: ServeOptions) -> None:
    """Refuse several worker processes unless they share a backend (Redis)."""
    if options.workers < 1:
        raise ServeError(f"--workers must be 1 or more, got {options.workers}")
    store = store_name(options.store, options.redis_url)
    if options.workers == 1 or store == "redis":
        return
    raise ServeError(
        f"--workers {options.workers} needs a backend shared by every process, and the {store} "
        "store is not: stream subscribers would miss changes made in other workers and every "
        "cron tick would run once per worker.\n"
        f"Run Redis and pass it: motia start --workers {options.workers} "
        f"--redis-url redis://HOST:6379/0 (or set {URL_ENV}); "
        'the client comes with pip install "redis>=5".'
    )


def check_console(options: ServeOptions) -> None:
    """Refuse to serve the console on an address other machines reach unless it has a token."""
    settings = Settings(**options.settings)
    if not settings.console or settings.console_token or is_loopback(options.host):
        return
    raise ServeError(
        f"the console would be open to anyone who reaches {options.host}:{options.port}.\n"
        f"Give it a token (--console-token TOKEN or {CONSOLE_TOKEN_ENV}) and open it once with "
        "?token=TOKEN, serve on 127.0.0.1, or leave the console off "
        "(motia dev --no-console; motia start without --console)."
    )


def _serve_workers(options: ServeOptions) -> None:
    if options.settings.get("metrics"):
        share_metrics_between_workers()
    # The supervisor builds the app once, so that a broken step fails the start once and
    # the route table is logged once, not by every worker.
    announce(options.build(), options)
    os.environ[_ENV] = json.dumps(asdict(replace(options, announce=False)))
    config = _uvicorn_config("motia.server:app_from_env", options)
    config.factory = True
    config.workers = options.workers
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def share_metrics_between_workers() -> Path:
    """Point every worker at one empty folder for the metrics client's multiprocess mode.

    A folder given in ``PROMETHEUS_MULTIPROC_DIR`` is emptied of an earlier run's files;
    otherwise a fresh one is made. Set before the workers start, so each sees it.
    """
    given = os.environ.get(_METRICS_DIR_ENV)
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="motia-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[_METRICS_DIR_ENV] = str(folder)
    return folder


class SourceReload(WatchFilesReload):
    """Restart on changes to Python sources, never on virtualenvs, caches or node_modules.

    Each server process is forked from a forkserver that has imported motia and uvicorn
    once, so a reload only loads the project's own files.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roots = [Path(d) for d in self.reload_dirs]
        self.watch_filter = lambda path: is_project_source(path, roots)  # type: ignore[assignment]
        self.watcher = watch(
            *self.reload_dirs,
            watch_filter=None,
            stop_event=self.should_exit,
            yield_on_timeout=True,
            ignore_permission_denied=True,
            rust_timeout=_WATCH_TIMEOUT_MS,
        )

    def startup(self) -> None:
        logging.getLogger("uvicorn.error").info("Started reloader process [%d]", self.pid)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.signal_handler)
        # Watch before the first server answers: a forked server is up within a fraction of
        # a second, and a change made before the watcher starts would never be seen.
        next(self.watcher)
        self.process = self._server_process()  # type: ignore[assignment]  # uvicorn's spawns

    def restart(self) -> None:
        self.process.terminate()
        self.process.join()
        self.process = self._server_process()  # type: ignore[assignment]  # uvicorn's spawns

    def _server_process(self) -> BaseProcess:
        process = _forked_server(self.config, self.target, self.sockets)
        process.start()
        return process


def _forked_server(config: uvicorn.Config, target: Any, sockets: list[socket]) -> BaseProcess:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOADED)
    # stdin is not handed on: the forkserver has closed its own
    kwargs = {"config": config, "target": target, "sockets": sockets, "stdin_fileno": None}
    return context.Process(target=subprocess_started, kwargs=kwargs)


def is_project_source(path: Path, roots: list[Path]) -> bool:
    if path.suffix != ".py":
        return False
    root = next((r for r in roots if path.is_relative_to(r)), None)
    parts = path.relative_to(root).parts if root else path.parts
    return not any(part in _NEVER_WATCHED or part.startswith(".") for part in parts)


def _uvicorn_config(app: Any, options: ServeOptions) -> uvicorn.Config:
    settings = Settings(**options.settings)
    return uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        access_log=False,  # the app writes its own (motia.access), in the project's formats
        timeout_graceful_shutdown=int(settings.graceful_timeout),
        ws_ping_interval=settings.heartbeat_interval or None,  # WebSockets beat as SSE does
        log_config=None,
        ws_max_size=settings.max_stream_message,
        ws_per_message_deflate=_deflate_is_bounded(),
        http=LimitedHttpProtocol,  # header, time and connection limits (from the app's settings)
        timeout_keep_alive=int(settings.keep_alive_timeout),
    )


def _deflate_is_bounded() -> bool:
    """Whether uvicorn's WebSocket protocol stops decompressing at ``ws_max_size``.

    uvicorn picks websockets when it is installed; websockets decompresses a message
    only up to its size limit. wsproto, the fallback, inflates each read whole before
    any limit applies (a few KiB on the wire can become hundreds of MiB), so there
    permessage-deflate is turned off.
    """
    return importlib.util.find_spec("websockets") is not None


def _watched_dirs(options: ServeOptions) -> list[str]:
    project = Path(options.project_dir)
    candidates = [project / options.steps_dir, project / "src"]
    return [str(path.resolve()) for path in candidates if path.is_dir()]
