"""The ``motia`` command: parses options and hands them to the server functions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from motia.errors import BuildError
from motia.server import ServeOptions, route_lines, serve

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motia", description="Serve Motia-style steps.")
    commands = parser.add_subparsers(required=True, metavar="command")
    dev = commands.add_parser("dev", help="serve with reload; broken steps are reported")
    _serving_options(dev)
    dev.set_defaults(run=_dev)
    start = commands.add_parser("start", help="serve for production; any broken step fails")
    _serving_options(start)
    start.set_defaults(run=_start)
    routes = commands.add_parser("routes", help="print the HTTP routes and exit")
    _project_options(routes)
    routes.set_defaults(run=_routes)
    return parser


def _project_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default="steps", help="steps folder (default: steps)")
    parser.add_argument("--project", default=".", help="project folder (default: .)")


def _serving_options(parser: argparse.ArgumentParser) -> None:
    _project_options(parser)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--log-format", choices=["pretty", "json"], default="pretty")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--store", choices=["sqlite", "memory"], default="sqlite")
    parser.add_argument(
        "--heartbeat", type=float, default=15.0, help="seconds between SSE pings (0: off)"
    )


def _options(args: argparse.Namespace, *, dev: bool) -> ServeOptions:
    return ServeOptions(
        project_dir=args.project,
        steps_dir=args.dir,
        host=args.host,
        port=args.port,
        dev=dev,
        reload=dev,
        log_format=args.log_format,
        log_level=args.log_level,
        store=args.store,
        settings={"heartbeat_interval": args.heartbeat},
    )


def _dev(args: argparse.Namespace) -> int:
    serve(_options(args, dev=True))
    return 0


def _start(args: argparse.Namespace) -> int:
    serve(_options(args, dev=False))
    return 0


def _routes(args: argparse.Namespace) -> int:
    from motia.app import Motia

    for line in route_lines(Motia(args.dir, project_dir=args.project, store="memory")):
        print(line)
    return 0
