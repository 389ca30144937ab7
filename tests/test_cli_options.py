"""The `motia` command's options, parsed in-process: help, version, rejected values, messages."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pytest
from support import write_step

from motia import __version__
from motia._runtime.logs import JsonFormatter
from motia.app import Motia
from motia.cli import _parser, main
from motia.server import print_routes

HELLO = (
    "from motia import http\n"
    "config = {'name': 'Hello', 'flows': ['greetings'], 'triggers': [http('GET', '/hello')]}\n"
    "async def handler(args, ctx): return {'status': 200, 'body': {}}\n"
)


def _every_parser(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(parser.prog, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _every_parser(child)
    return found


def test_version_prints_the_package_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.strip() == f"motia {__version__}"


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{prog} {'/'.join(action.option_strings) or action.dest}"
        for prog, parser in _every_parser(_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dev", "--log-level", "verbose"], "argument --log-level: invalid choice: 'verbose'"),
        (["start", "--port", "70000"], "argument --port: must be a port from 0 to 65535"),
        (["start", "--port", "http"], "argument --port: invalid port_number value: 'http'"),
        (["start", "--workers", "0"], "argument --workers: must be 1 or more, got 0"),
        (["dev", "--heartbeat", "-1"], "argument --heartbeat: must be a number of 0 or more"),
        (["dev", "--heartbeat", "nan"], "argument --heartbeat: must be a number of 0 or more"),
    ],
)
def test_bad_option_values_are_rejected_by_the_parser(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_log_levels_are_case_insensitive() -> None:
    assert _parser().parse_args(["dev", "--log-level", "DEBUG"]).log_level == "debug"


def test_flows_mermaid_to_a_file_says_where_it_wrote(tmp_path: Path, capsys) -> None:
    write_step(tmp_path / "steps", "hello.step.py", HELLO)
    target = tmp_path / "flows.mmd"
    assert main(["flows", "--project", str(tmp_path), "--mermaid", str(target)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"wrote the Mermaid diagram of 1 flow(s) to {target}"
    )
    assert target.read_text().startswith("flowchart")


def test_json_logs_carry_one_record_per_route(tmp_path: Path) -> None:
    write_step(tmp_path / "steps", "hello.step.py", HELLO)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("motia")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        print_routes(Motia("steps", project_dir=tmp_path, store="memory"), "json")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    entries = [json.loads(JsonFormatter().format(r)) for r in records if r.name == "motia"]
    assert [(e["msg"], e["data"]) for e in entries] == [
        (
            "route GET /hello",
            {"method": "GET", "path": "/hello", "step": "Hello", "flows": ["greetings"]},
        )
    ]


_CHECKED_TYPES = {"positive_int", "non_negative_int", "non_negative_float", "port_number"}


def _numeric_options() -> list[tuple[str, argparse.Action]]:
    return [
        (prog, action)
        for prog, parser in _every_parser(_parser())
        for action in parser._actions
        if action.option_strings and action.type not in (None, str.lower)
    ]


def test_every_numeric_option_is_range_checked_by_the_parser() -> None:
    unchecked = [
        f"{prog} {action.option_strings[0]}"
        for prog, action in _numeric_options()
        if getattr(action.type, "__name__", "") not in _CHECKED_TYPES
    ]
    assert unchecked == []


def test_every_numeric_option_refuses_a_negative_value(capsys) -> None:
    serving = [(p, a) for p, a in _numeric_options() if p.split()[-1] in ("dev", "start")]
    assert len(serving) > 10
    for prog, action in serving:
        flag = action.option_strings[0]
        with pytest.raises(SystemExit) as exit:
            main([prog.split()[-1], flag, "-1"])
        assert exit.value.code == 2
        assert f"argument {'/'.join(action.option_strings)}: " in capsys.readouterr().err, flag
