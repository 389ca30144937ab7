"""The ``motia`` command: parses options and hands them to the server functions."""

from __future__ import annotations

import argparse
import dataclasses
import glob
import importlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dotenv import load_dotenv

from motia import __version__
from motia._project.stream_config import StreamConfig
from motia.exceptions import BuildError, ProjectExistsError, ServeError
from motia.schema_utils import schema_to_json_schema
from motia.server import CONSOLE_TOKEN_ENV, ServeOptions, check_project, route_lines, serve
from motia.settings import Settings

_DEFAULTS = Settings()

if TYPE_CHECKING:
    from motia.app import Motia

__all__ = [
    "configure_logging",
    "discover_steps",
    "discover_streams",
    "generate_index",
    "generate_schema_manifest",
    "load_and_register_step",
    "load_module_from_path",
    "main",
    "non_negative_float",
    "non_negative_int",
    "port_number",
    "positive_int",
    "start_options",
]

log = logging.getLogger("motia.cli")


def main(argv: Sequence[str] | None = None) -> int:
    # Before parsing, as Motia's CLI does; variables already set win over the file's.
    load_dotenv(_project_folder(argv) / ".env")
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (BuildError, ServeError, ConnectionError) as exc:
        print(exc, file=sys.stderr)
        return 1


def _project_folder(argv: Sequence[str] | None) -> Path:
    """The ``--project`` folder of the command line, before it is parsed whole."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--project", default=".")
    known, _ = parser.parse_known_args(argv)
    return Path(known.project)


def start_options(argv: Sequence[str]) -> ServeOptions:
    """``motia start``'s options from a command line (``dist/index.py`` takes them too)."""
    return _options(_parser().parse_args(["start", *argv]), dev=False)


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motia", description="Serve Motia-style steps.")
    parser.add_argument(
        "--version", action="version", version=f"motia {__version__}", help="print the version"
    )
    commands = parser.add_subparsers(required=True, metavar="command")
    dev = commands.add_parser("dev", help="serve with reload; broken steps are reported")
    _serving_options(dev)
    dev.add_argument(
        "--no-console", dest="console", action="store_false", help="do not serve the dev console"
    )
    _console_options(dev)
    dev.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="do not log each request (method, path, status, duration, trace id)",
    )
    dev.set_defaults(run=_dev, console=True, access_log=True)
    dev.add_argument(
        "--watch", "-w", action="store_true", help="accepted for Motia: dev always reloads"
    )
    for name in ("start", "run"):
        _start_command(commands, name)
    build = commands.add_parser(
        "build", help="write dist/index.py, which serves the step and stream files found"
    )
    build.set_defaults(run=_build)
    typegen = commands.add_parser(
        "typegen", help="write the step and stream configs, by file, as JSON"
    )
    typegen.add_argument(
        "--output", "-o", default="types.json", help="file to write (default: types.json)"
    )
    typegen.set_defaults(run=_typegen)
    for motia_command in (build, typegen):
        motia_command.add_argument(
            "--dir", "-d", default="steps", help="steps folder (default: steps)"
        )
        motia_command.add_argument(
            "--verbose", "-v", action="store_true", help="log each file found"
        )
    routes = commands.add_parser("routes", help="print the HTTP routes and exit")
    _project_options(routes)
    routes.set_defaults(run=_routes)
    openapi = commands.add_parser("openapi", help="print the OpenAPI document and exit")
    _project_options(openapi)
    openapi.add_argument("--title", default="Motia API", help="info.title of the document")
    openapi.add_argument("--version", default="0.1.0", help="info.version of the document")
    openapi.set_defaults(run=_openapi)
    flows = commands.add_parser("flows", help="print each flow: its steps and their topics")
    _project_options(flows)
    flows.add_argument(
        "--mermaid", nargs="?", const="-", metavar="FILE", help="write a Mermaid diagram"
    )
    flows.set_defaults(run=_flows)
    _queue_commands(commands.add_parser("queue", help="inspect and replay dead letters"))
    create = commands.add_parser("create", help="start a new project in an empty folder")
    create.add_argument("folder", help="where to create it (absent or empty)")
    create.add_argument("--name", help="project name (default: from the folder name)")
    create.set_defaults(run=_create)
    return parser


def _start_command(commands: Any, name: str) -> None:
    also = " (Motia's name for start)" if name == "run" else ""
    start = commands.add_parser(name, help=f"serve for production; any broken step fails{also}")
    _serving_options(start)
    start.add_argument(
        "--console", action="store_true", help="also serve the dev console at /__motia/console"
    )
    _console_options(start)
    start.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="worker processes on one port (needs Redis; default: 1)",
    )
    start.add_argument(
        "--access-log",
        action="store_true",
        help="log each request: method, path, status, duration, trace id",
    )
    start.set_defaults(run=_start)


def _queue_commands(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(required=True, metavar="action")
    dlq = actions.add_parser("dlq", help="list the dead-letter queue")
    dlq.add_argument("--topic", help="only dead letters of this topic")
    dlq.add_argument("--json", action="store_true", help="one JSON object per line")
    dlq.add_argument("--project", default=".", help="project folder (default: .)")
    _queue_redis_options(dlq)
    dlq.set_defaults(run=_queue_dlq)
    replay = actions.add_parser("replay", help="send dead letters back to their step")
    replay.add_argument("ids", nargs="*", metavar="id", help="dead letter id(s)")
    replay.add_argument("--all", action="store_true", help="replay every dead letter")
    replay.add_argument("--project", default=".", help="project folder (default: .)")
    _queue_redis_options(replay)
    replay.set_defaults(run=_queue_replay)


def _queue_redis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis-url", help="the Redis queue at redis://host:port/db (default: $MOTIA_REDIS_URL)"
    )
    parser.add_argument(
        "--redis-prefix", help="prefix of every Redis key (default: $MOTIA_REDIS_PREFIX or motia:)"
    )


def _console_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--console-host",
        dest="console_hosts",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name the console answers to besides localhost (repeatable)",
    )
    parser.add_argument(
        "--console-token",
        metavar="TOKEN",
        help=f"asked of every console request; needed off loopback (default: ${CONSOLE_TOKEN_ENV})",
    )


def _project_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", "-d", default="steps", help="steps folder (default: steps)")
    parser.add_argument("--project", default=".", help="project folder (default: .)")


def _serving_options(parser: argparse.ArgumentParser) -> None:
    _project_options(parser)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=port_number, default=3000, help="port to listen on (default: 3000)"
    )
    parser.add_argument(
        "--log-format",
        choices=["pretty", "json"],
        default="pretty",
        help="pretty lines or one JSON object per line (default: pretty)",
    )
    parser.add_argument(
        "--log-level",
        type=str.lower,
        choices=LOG_LEVELS,
        default="info",
        help="least severe level logged (default: info)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="same as --log-level debug")
    parser.add_argument(
        "--store",
        choices=["sqlite", "memory", "redis"],
        help="state and streams backend (default: redis with a Redis URL, else sqlite)",
    )
    parser.add_argument("--redis-url", help="redis://host:port/db (default: $MOTIA_REDIS_URL)")
    parser.add_argument(
        "--redis-prefix", help="prefix of every Redis key (default: $MOTIA_REDIS_PREFIX or motia:)"
    )
    parser.add_argument(
        "--heartbeat",
        type=non_negative_float,
        default=15.0,
        help="seconds between SSE pings (0: off; default: 15)",
    )
    parser.add_argument(
        "--metrics", action="store_true", help="serve Prometheus metrics at /__motia/metrics"
    )
    parser.add_argument(
        "--metrics-token",
        default=os.environ.get("MOTIA_METRICS_TOKEN"),
        help="lets non-loopback clients scrape with 'Authorization: Bearer TOKEN' "
        "(default: $MOTIA_METRICS_TOKEN)",
    )
    parser.add_argument(
        "--send-timeout",
        type=non_negative_float,
        default=_DEFAULTS.send_timeout,
        help="seconds a streaming client may stop reading before it is dropped (0: no limit; "
        "default: %(default)s)",
    )
    parser.add_argument(
        "--sync-call-timeout",
        type=non_negative_float,
        default=30.0,
        help="seconds a synchronous Stream/stateManager call may wait (default: 30)",
    )
    _replay_options(parser)
    _stream_limits(parser)
    _limit_options(parser.add_argument_group("limits (see docs/deployment.md)"))


def _replay_options(parser: argparse.ArgumentParser) -> None:
    """What each process keeps of stream messages for SSE clients resuming with Last-Event-ID."""
    parser.add_argument(
        "--replay-messages",
        type=non_negative_int,
        default=_DEFAULTS.replay_messages,
        help="messages kept per stream group (default: %(default)s)",
    )
    parser.add_argument(
        "--replay-bytes",
        type=non_negative_int,
        default=_DEFAULTS.replay_bytes,
        help="bytes kept per stream group (default: %(default)s)",
    )
    parser.add_argument(
        "--replay-total-bytes",
        type=non_negative_int,
        default=_DEFAULTS.replay_total_bytes,
        help="bytes kept by all stream groups together (default: %(default)s)",
    )
    parser.add_argument(
        "--replay-idle-timeout",
        type=non_negative_float,
        default=_DEFAULTS.replay_idle_timeout,
        help="seconds an unwatched stream group keeps its messages (default: %(default)s)",
    )
    parser.add_argument(
        "--replay-idle-groups",
        type=non_negative_int,
        default=_DEFAULTS.replay_idle_groups,
        help="unwatched stream groups that keep their messages (default: %(default)s)",
    )


def _stream_limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-stream-message",
        type=non_negative_int,
        default=_DEFAULTS.max_stream_message,
        metavar="BYTES",
        help="largest message a stream WebSocket client may send, decompressed "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-stream-name",
        type=non_negative_int,
        default=_DEFAULTS.max_stream_name,
        metavar="CHARS",
        help="longest stream, group, item or subscription name a client may send "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-subscriptions",
        type=non_negative_int,
        default=_DEFAULTS.max_subscriptions,
        metavar="N",
        help="subscriptions one stream WebSocket may hold (default: %(default)s)",
    )
    parser.add_argument(
        "--stream-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin (https://app.example.com) that may subscribe to streams besides "
        "the app's own and loopback ones; repeatable; '*' admits any",
    )


_LIMIT_FLAGS: list[tuple[str, type, str]] = [
    ("max_body_size", int, "bytes of one request body (413)"),
    ("max_body_memory", int, "bytes of request bodies held at once by all requests (503)"),
    ("max_form_fields", int, "fields of a form body a handler reads (413)"),
    ("max_headers", int, "header lines of one request (431)"),
    ("max_header_size", int, "bytes of one request head (431)"),
    ("header_timeout", float, "seconds to send a request head (408)"),
    ("body_timeout", float, "seconds a request body may pause (408)"),
    ("keep_alive_timeout", float, "seconds an idle keep-alive connection stays open"),
    ("max_connections", int, "open connections per process (503)"),
    ("max_queue_depth", int, "messages waiting in one topic's queue before enqueue is refused "
     "(503 with Retry-After; 0: no limit)"),
    ("max_queue_lag", float, "seconds the oldest due message of a topic may wait before "
     "enqueue is refused (503 with Retry-After; 0: no limit)"),
]  # fmt: skip


def _limit_options(group: argparse._ArgumentGroup) -> None:
    for name, kind, help_text in _LIMIT_FLAGS:
        default = getattr(_DEFAULTS, name)
        flag = "--" + name.replace("_", "-")
        metavar = "SECONDS" if kind is float else "N"
        group.add_argument(
            flag,
            type=non_negative_int if kind is int else non_negative_float,
            default=default,
            metavar=metavar,
            help=f"{help_text}; default {default}",
        )


def _limit_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name, _, _ in _LIMIT_FLAGS}


def _options(args: argparse.Namespace, *, dev: bool) -> ServeOptions:
    return ServeOptions(
        project_dir=args.project,
        steps_dir=args.dir,
        host=args.host,
        port=args.port,
        dev=dev,
        reload=dev,
        log_format=args.log_format,
        log_level="debug" if args.verbose else args.log_level,
        store=args.store,
        redis_url=args.redis_url,
        redis_prefix=args.redis_prefix,
        workers=getattr(args, "workers", 1),
        settings={
            "heartbeat_interval": args.heartbeat,
            "send_timeout": args.send_timeout,
            "console": args.console,
            "sync_call_timeout": args.sync_call_timeout,
            "access_log": args.access_log,
            "replay_messages": args.replay_messages,
            "replay_bytes": args.replay_bytes,
            "replay_total_bytes": args.replay_total_bytes,
            "replay_idle_timeout": args.replay_idle_timeout,
            "replay_idle_groups": args.replay_idle_groups,
            "max_stream_message": args.max_stream_message,
            "max_stream_name": args.max_stream_name,
            "max_subscriptions": args.max_subscriptions,
            "stream_origins": args.stream_origin,
            "metrics": args.metrics,
            "metrics_token": args.metrics_token,
            **_limit_settings(args),
            "console_hosts": tuple(args.console_hosts),
            "console_token": args.console_token or os.environ.get(CONSOLE_TOKEN_ENV) or None,
        },
    )


def _dev(args: argparse.Namespace) -> int:
    serve(_options(args, dev=True))
    return 0


def _start(args: argparse.Namespace) -> int:
    serve(_options(args, dev=False))
    return 0


def _routes(args: argparse.Namespace) -> int:
    motia = _project_app(args)
    lines = route_lines(motia)
    for line in lines:
        print(line)
    if not lines:
        count = len(motia.registry.steps)
        print(f"no HTTP routes: {count} step(s), none with an http() trigger", file=sys.stderr)
        return 1
    return 0


def _project_app(args: argparse.Namespace) -> Motia:
    """The project's app for commands that only read it (routes, openapi, flows)."""
    from motia.app import Motia

    check_project(ServeOptions(project_dir=args.project, steps_dir=args.dir))
    return Motia(args.dir, project_dir=args.project, store="memory")


def _openapi(args: argparse.Namespace) -> int:
    import json

    motia = _project_app(args)
    print(json.dumps(motia.openapi(title=args.title, version=args.version), indent=2))
    return 0


def _flows(args: argparse.Namespace) -> int:
    from motia._project.flows import flows_of, render_mermaid, render_text

    flows = flows_of(_project_app(args).registry)
    if args.mermaid is None:
        print(render_text(flows), end="")
    elif args.mermaid == "-":
        print(render_mermaid(flows), end="")
    else:
        with open(args.mermaid, "w", encoding="utf-8") as out:
            out.write(render_mermaid(flows))
        print(f"wrote the Mermaid diagram of {len(flows)} flow(s) to {args.mermaid}")
    return 0


def _queue_dlq(args: argparse.Namespace) -> int:
    import json

    from motia.backends.selection import redis_url
    from motia.queues.admin import list_dead_letters, list_redis_dead_letters

    if redis_url(args.redis_url):
        letters = list_redis_dead_letters(
            args.redis_url, prefix=args.redis_prefix, topic=args.topic
        )
    elif (db := _queue_database(args.project)) is not None:
        letters = list_dead_letters(db, args.topic)
    else:
        return 1
    for letter in letters:
        if args.json:
            print(json.dumps(letter.as_dict(), default=str))
        else:
            print(
                f"{letter.id}  {letter.topic}  {letter.step}  "
                f"attempts={letter.attempts}  {letter.error}"
            )
    if not letters and not args.json:
        print("no dead letters", file=sys.stderr)
    return 0


def _queue_replay(args: argparse.Namespace) -> int:
    from motia.backends.selection import redis_url
    from motia.queues.admin import replay_dead_letters, replay_redis_dead_letters

    if bool(args.ids) == bool(args.all):
        print("motia queue replay: give dead letter id(s) or --all, not both", file=sys.stderr)
        return 2
    ids = None if args.all else args.ids
    if redis_url(args.redis_url):
        replayed = replay_redis_dead_letters(args.redis_url, ids, prefix=args.redis_prefix)
    elif (db := _queue_database(args.project)) is not None:
        replayed = replay_dead_letters(db, ids)
    else:
        return 1
    for letter_id in replayed:
        print(letter_id)
    missing = sorted(set(args.ids) - set(replayed))
    if missing:
        print(f"not in the dead-letter queue: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"replayed {len(replayed)} message(s)", file=sys.stderr)
    return 0


def _queue_database(project: str) -> Path | None:
    from motia.queues.admin import database_path

    path = database_path(project)
    if not path.exists():
        print(f"{path}: no queue database (run the app in this project first)", file=sys.stderr)
        return None
    return path


def _create(args: argparse.Namespace) -> int:
    from motia._scaffold import create_project, next_steps

    try:
        create_project(args.folder, args.name)
    except ProjectExistsError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"created {args.folder}; next, install it, run its tests and serve it:")
    for command in next_steps(args.folder):
        print(f"  {command}")
    return 0


def _build(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    steps, streams = _project_files(args.dir)
    Path("dist").mkdir(exist_ok=True)
    (Path("dist") / "index.py").write_text(generate_index(steps, streams))
    print(
        f"wrote dist/index.py: {len(steps)} step file(s), {len(streams)} stream file(s); "
        "serve them from this folder with `python dist/index.py` (it takes motia start's options)"
    )
    return 0


def _typegen(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    steps, streams = _project_files(args.dir)
    manifest = generate_schema_manifest(steps, streams)
    Path(args.output).write_text(json.dumps(manifest, indent=2, default=_json_name))
    print(f"wrote {args.output}: the configs of {len(manifest['steps'])} step file(s)")
    return 0


def _project_files(folder: str) -> tuple[list[str], list[str]]:
    """The step files and the stream files under ``folder`` and ``src``, each logged."""
    steps = discover_steps(folder, include_src=True)
    streams = discover_streams(folder, include_src=True)
    for path in streams + steps:
        log.debug("found %s", path)
    return steps, streams


def _json_name(value: Any) -> Any:
    """What JSON cannot hold in a config: models and dataclasses as dicts, a schema class as
    its JSON Schema, anything else by name."""
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return value.model_dump(by_alias=True, exclude_none=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, StreamConfig):
        return {"name": value.name, "schema": value.schema, "baseConfig": value.base_config}
    schema = schema_to_json_schema(value)
    return schema if schema is not None else getattr(value, "__qualname__", repr(value))


# -- Motia's CLI functions, by its names: `motia build`'s entrypoint and typegen use them ----


def load_module_from_path(path: str) -> ModuleType | None:
    """Import the Python file at ``path``; it stays in ``sys.modules`` as ``step_module:<path>``."""
    spec = importlib.util.spec_from_file_location("step_module", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"step_module:{path}"] = module
    spec.loader.exec_module(module)
    return module


def load_and_register_step(path: str) -> None:
    """Import a step file and add its step to ``motia.runtime.Motia``, Motia's step registry."""
    registry = importlib.import_module("motia.runtime").Motia()
    module = load_module_from_path(path)
    if module is None:
        return
    config = getattr(module, "config", None)
    handler = getattr(module, "handler", None)
    if callable(handler) and (isinstance(config, Mapping) or hasattr(config, "model_dump")):
        registry.add_step(config, path, handler)


def _discover_files(directories: list[str], pattern: str) -> list[str]:
    found: list[str] = []
    for directory in directories:
        if os.path.exists(directory):
            found += glob.glob(os.path.join(directory, "**", pattern), recursive=True)
    return found


def _folders(directory: str, include_src: bool) -> list[str]:
    return [directory, "src"] if include_src and directory != "src" else [directory]


def discover_steps(directory: str, *, include_src: bool = False) -> list[str]:
    """Step files (``*_step.py``, ``*.step.py``) under ``directory`` (and ``src``)."""
    folders = _folders(directory, include_src)
    return _discover_files(folders, "*_step.py") + _discover_files(folders, "*.step.py")


def discover_streams(directory: str, *, include_src: bool = False) -> list[str]:
    """Stream files (``*_stream.py``, ``*.stream.py``) under ``directory`` (and ``src``)."""
    folders = _folders(directory, include_src)
    return _discover_files(folders, "*_stream.py") + _discover_files(folders, "*.stream.py")


def configure_logging(verbose: bool = False) -> None:
    """Log records of INFO and above (DEBUG with ``verbose``) to stderr."""
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s [%(levelname)s] %(name)s: %(message)s")


_INDEX = """\
# Generated by `motia build`. Run `python dist/index.py` from the project folder: it loads
# these stream and step files and serves them with motia's runtime. It takes the options of
# `motia start` (--port, --store, ...).
from dotenv import load_dotenv

from motia.entrypoint import Entrypoint

load_dotenv()

entrypoint = Entrypoint()
load_module_from_path = entrypoint.add_stream_file
load_and_register_step = entrypoint.add_step_file


def main() -> int:
{calls}
    return entrypoint.serve()


if __name__ == "__main__":
    raise SystemExit(main())
"""


def generate_index(step_files: list[str], stream_files: list[str]) -> str:
    """The source of ``dist/index.py``: streams load first, then steps, then it serves."""
    calls = [f"    load_module_from_path({_path_literal(path)})" for path in stream_files]
    calls += [f"    load_and_register_step({_path_literal(path)})" for path in step_files]
    return _INDEX.format(calls="\n".join(calls))


def _path_literal(path: str) -> str:
    if "'" in path or path.endswith("\\"):
        return repr(path)
    return f"r'{path}'"


def generate_schema_manifest(step_files: list[str], stream_files: list[str]) -> dict[str, Any]:
    """Each step's and stream's config by file: ``{"steps": [...], "streams": [...]}``."""
    for path in stream_files + step_files:
        load_module_from_path(path)
    return {
        "steps": _configs_by_file(step_files),
        "streams": _configs_by_file(stream_files),
    }


def _configs_by_file(paths: list[str]) -> list[dict[str, Any]]:
    entries = []
    for path in paths:
        module = sys.modules.get(f"step_module:{path}")
        if module is not None and hasattr(module, "config"):
            entries.append({"filePath": path, "config": _dumped(module.config)})
    return entries


def _dumped(config: Any) -> Any:
    """A config model as a dict with Motia's camelCase keys; anything else as it is."""
    try:
        return config.model_dump(by_alias=True) if hasattr(config, "model_dump") else config
    except Exception:
        return config


def positive_int(text: str) -> int:
    """An option value of 1 or more; anything else is a parser error naming the value."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """A count or size of 0 or more; anything else is a parser error naming the value."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """An option value of 0 or more (seconds, sizes); anything else is a parser error."""
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of 0 or more, got {text}")
    return value


def port_number(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to 65535, got {text}")
    return value
