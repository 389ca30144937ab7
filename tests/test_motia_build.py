"""Motia's `motia build` and `motia typegen`, and the entrypoint a build writes."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from support import ServerProcess, free_port, wait_until_serving, write_step

from motia import cli
from motia.iii import get_instance

HELLO = """
from motia import http

config = {"name": "Hello", "triggers": [http("GET", "/hello", body_schema={"type": "object"})]}

async def handler(request, ctx):
    return {"status": 200, "body": {"hello": "built"}}
"""

STREAM = """
from motia import StreamConfig

config = StreamConfig(name="visits", schema={"type": "object"})
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_step(tmp_path / "steps", "hello_step.py", HELLO)
    write_step(tmp_path / "steps", "visits.stream.py", STREAM)
    other = HELLO.replace('"/hello", body_schema={"type": "object"}', '"/other"')
    other = other.replace('"Hello"', '"Other"')
    write_step(tmp_path / "src" / "more", "other.step.py", other)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_build_writes_an_entrypoint_listing_streams_then_steps_of_both_folders(
    project: Path,
) -> None:
    assert cli.main(["build"]) == 0
    index = (project / "dist" / "index.py").read_text()
    stream = index.index("load_module_from_path(r'steps/visits.stream.py')")
    assert stream < index.index("load_and_register_step(r'steps/hello_step.py')")
    assert stream < index.index("load_and_register_step(r'src/more/other.step.py')")
    assert "load_dotenv()" in index


def test_verbose_logs_each_file_found(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "motia.cli")
    assert cli.main(["typegen", "-v"]) == 0
    assert "found steps/hello_step.py" in caplog.messages
    assert "found steps/visits.stream.py" in caplog.messages


def test_a_path_with_a_quote_stays_one_python_string() -> None:
    index = cli.generate_index(["steps/it's_step.py"], [])
    assert 'load_and_register_step("steps/it\'s_step.py")' in index
    compile(index, "index.py", "exec")


def run_entrypoint(project: Path, *options: str) -> ServerProcess:
    port = free_port()
    log_path = project / "index.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "dist/index.py", "--port", str(port), "--store", "memory", *options],
            cwd=project,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    return ServerProcess(process, port, log_path)


@pytest.mark.slow
def test_the_built_entrypoint_serves_the_listed_files_with_start_options(project: Path) -> None:
    assert cli.main(["build"]) == 0
    server = run_entrypoint(project)
    try:
        wait_until_serving(server)
        assert httpx.post(server.url + "/hello", timeout=5).status_code == 405
        assert httpx.get(server.url + "/other", timeout=5).json() == {"hello": "built"}
    finally:
        assert server.stop(signal.SIGTERM) == 0, server.log()


@pytest.mark.slow
def test_the_built_entrypoint_keeps_the_projects_stream_auth_hook(project: Path) -> None:
    (project / "motia_config.py").write_text("def stream_auth(request):\n    return False\n")
    assert cli.main(["build"]) == 0
    server = run_entrypoint(project)
    try:
        wait_until_serving(server)
        refused = httpx.get(server.url + "/streams/visits/inbox", timeout=5)
        assert refused.status_code == 401
    finally:
        assert server.stop(signal.SIGTERM) == 0, server.log()


@pytest.mark.slow
def test_the_built_entrypoint_refuses_a_broken_file_naming_it(project: Path) -> None:
    assert cli.main(["build"]) == 0
    write_step(project / "steps", "hello_step.py", "config = {}\n")
    server = run_entrypoint(project)
    try:
        assert server.process.wait(timeout=20) == 1
    finally:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
    assert "steps/hello_step.py" in server.log()


@pytest.mark.slow
def test_the_built_entrypoint_serves_one_process_only(project: Path) -> None:
    assert cli.main(["build"]) == 0
    server = run_entrypoint(project, "--workers", "2", "--redis-url", "redis://127.0.0.1:1/15")
    try:
        assert server.process.wait(timeout=20) == 1
    finally:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
    assert "motia start --dir steps --workers 2" in server.log()


def test_typegen_writes_each_files_config_with_motias_keys(project: Path) -> None:
    assert cli.main(["typegen", "--output", "types.json"]) == 0
    manifest = json.loads((project / "types.json").read_text())
    hello = next(s for s in manifest["steps"] if s["filePath"] == "steps/hello_step.py")
    assert hello["config"]["triggers"] == [
        {"type": "http", "method": "GET", "path": "/hello", "bodySchema": {"type": "object"}}
    ]
    assert manifest["streams"] == [
        {
            "filePath": "steps/visits.stream.py",
            "config": {
                "name": "visits",
                "schema": {"type": "object"},
                "baseConfig": {"storage_type": "default"},
            },
        }
    ]


def test_a_loaded_file_is_kept_under_motias_module_name(project: Path) -> None:
    module = cli.load_module_from_path("steps/hello_step.py")
    assert module is not None
    assert sys.modules["step_module:steps/hello_step.py"] is module
    assert module.config["name"] == "Hello"


def test_a_step_file_registers_on_motias_engine_registry(tmp_path: Path) -> None:
    path = write_step(
        tmp_path,
        "paid_step.py",
        "from motia import queue\n"
        "config = {'name': 'CliRegistered', 'triggers': [queue('order.paid')]}\n"
        "async def handler(data, ctx):\n    return None\n",
    )
    cli.load_and_register_step(str(path))
    registered = [t for t in get_instance().triggers if t["function_id"].startswith("steps::CliR")]
    assert [(t["type"], t["function_id"]) for t in registered] == [
        ("queue", "steps::CliRegistered::trigger::queue(order.paid)")
    ]
    assert registered[0]["config"]["metadata"]["filePath"] == str(path)


def test_a_file_without_a_handler_registers_nothing(tmp_path: Path) -> None:
    path = write_step(tmp_path, "idle_step.py", "config = {'name': 'CliIdle', 'triggers': []}\n")
    before = get_instance().triggers
    cli.load_and_register_step(str(path))
    assert get_instance().triggers == before


def test_the_env_file_loads_before_the_command_line_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("MOTIA_BUILD_PROBE=from-file\n")
    monkeypatch.delenv("MOTIA_BUILD_PROBE", raising=False)
    try:
        with pytest.raises(SystemExit):
            cli.main(["no-such-command", "--project", str(tmp_path)])
        assert os.environ["MOTIA_BUILD_PROBE"] == "from-file"
    finally:
        os.environ.pop("MOTIA_BUILD_PROBE", None)
