"""The SQLite queue: messages survive a killed process; dead letters from the CLI and Python."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from motia import Motia, QueueConfig, Settings, queue, step
from motia.exceptions import NonRetryableError
from motia.queues.admin import database_path, list_dead_letters, replay_dead_letters

pytestmark = pytest.mark.anyio

WORK_STEP = """
import asyncio
import os
from pathlib import Path

from motia import queue

config = {
    "name": "Work",
    "triggers": [queue("work", config={"visibility_timeout": 2, "delay_seconds": 1})],
}


async def handler(data, ctx):
    runs = Path(os.environ["RUNS"])
    with runs.open("a") as out:
        out.write("run\\n")
    if os.environ.get("HANG"):
        await asyncio.sleep(3600)
    await ctx.state.set("done", "work", data)
    with runs.open("a") as out:
        out.write("done\\n")
"""

CHILD = """
import asyncio
import os
import sys
from pathlib import Path

from motia import Motia


async def main():
    motia = Motia("steps", project_dir=sys.argv[1])
    app = motia.asgi()
    async with app.router.lifespan_context(app):
        if os.environ.get("SEND"):
            await motia.runtime.enqueue({"topic": "work", "data": {"n": 1}})
            Path(os.environ["RUNS"]).with_name("enqueued").write_text("yes")
        await asyncio.sleep(3600)


asyncio.run(main())
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "work.step.py").write_text(WORK_STEP)
    (tmp_path / "child.py").write_text(CHILD)
    return tmp_path


@contextmanager
def child(project: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    environment = {**os.environ, "RUNS": str(project / "runs.txt"), **env}
    with open(project / "child.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(project / "child.py"), str(project)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def wait_for(check: Any, project: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            log = (project / "child.log").read_text(errors="replace")
            raise AssertionError(f"timed out; child log:\n{log}")
        time.sleep(0.02)


def runs(project: Path) -> list[str]:
    path = project / "runs.txt"
    return path.read_text().split() if path.exists() else []


@pytest.mark.slow
def test_a_message_being_processed_when_the_process_is_killed_is_redelivered(
    project: Path,
) -> None:
    with child(project, SEND="1", HANG="1") as first:
        wait_for(lambda: runs(project) == ["run"], project)
        first.send_signal(signal.SIGKILL)
    with child(project):
        wait_for(lambda: "done" in runs(project), project)
    assert runs(project) == ["run", "run", "done"]


@pytest.mark.slow
def test_a_message_enqueued_before_the_process_is_killed_is_delivered_after_restart(
    project: Path,
) -> None:
    with child(project, SEND="1") as first:
        wait_for((project / "enqueued").exists, project)
        first.send_signal(signal.SIGKILL)
    assert runs(project) == []
    with child(project):
        wait_for(lambda: "done" in runs(project), project)
    assert runs(project) == ["run", "done"]


def failing_app(project: Path, *, healthy: list[bool], done: list[Any], **options: Any) -> Motia:
    async def handler(data: Any) -> None:
        if not healthy:
            raise NonRetryableError("downstream is down")
        done.append(data)

    trigger = queue("work", config=QueueConfig(max_retries=0))
    return Motia(
        steps_dir=None,
        steps=[step({"name": "Work", "triggers": [trigger]}, handler)],
        project_dir=project,
        **options,
    )


async def make_dead_letter(project: Path, data: Any) -> str:
    motia = failing_app(project, healthy=[], done=[])
    app = motia.asgi()
    async with app.router.lifespan_context(app):
        message_id = await motia.runtime.enqueue({"topic": "work", "data": data})
        with anyio.fail_after(5):
            while not await motia.runtime.queues.dead_letters():
                await asyncio.sleep(0.01)
    return message_id


async def process_replayed(project: Path) -> list[Any]:
    done: list[Any] = []
    motia = failing_app(project, healthy=[True], done=done)
    app = motia.asgi()
    async with app.router.lifespan_context(app):
        with anyio.fail_after(5):
            while not done:
                await asyncio.sleep(0.01)
    return done


def cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "motia", "queue", *args, "--project", str(project)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


async def test_the_log_names_the_dead_letter_by_the_id_replay_takes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("motia")
    propagate, logger.propagate = logger.propagate, True
    try:
        with caplog.at_level(logging.ERROR, logger="motia.queue"):
            message_id = await make_dead_letter(tmp_path, {"n": 1})
    finally:
        logger.propagate = propagate
    [record] = [r for r in caplog.records if "dead-letter queue" in r.getMessage()]
    [letter] = list_dead_letters(database_path(tmp_path))
    logged_ids = set(re.findall(r"[0-9a-f]{32}", record.getMessage()))
    assert logged_ids == {letter.id} and message_id not in logged_ids
    assert f"motia queue replay {letter.id}" in record.getMessage()
    assert replay_dead_letters(database_path(tmp_path), [letter.id]) == [letter.id]


@pytest.mark.slow
async def test_dead_letters_are_listed_and_replayed_from_the_command_line(tmp_path: Path) -> None:
    message_id = await make_dead_letter(tmp_path, {"n": 1})
    listed = cli(tmp_path, "dlq", "--json")
    assert listed.returncode == 0, listed.stderr
    [letter] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert letter["message_id"] == message_id
    assert (letter["topic"], letter["step"], letter["attempts"]) == ("work", "Work", 1)
    assert letter["error"] == "NonRetryableError: downstream is down"
    assert cli(tmp_path, "dlq", "--topic", "other", "--json").stdout == ""
    plain = cli(tmp_path, "dlq").stdout
    assert letter["id"] in plain and "attempts=1" in plain

    replayed = cli(tmp_path, "replay", letter["id"])
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.split() == [letter["id"]]
    assert cli(tmp_path, "dlq", "--json").stdout == ""
    assert await process_replayed(tmp_path) == [{"n": 1}]


@pytest.mark.slow
async def test_the_command_line_reports_unknown_ids_and_missing_databases(tmp_path: Path) -> None:
    missing = cli(tmp_path, "dlq")
    assert missing.returncode == 1 and "no queue database" in missing.stderr
    await make_dead_letter(tmp_path, {"n": 1})
    unknown = cli(tmp_path, "replay", "nope")
    assert unknown.returncode == 1 and "nope" in unknown.stderr
    assert cli(tmp_path, "replay", "--all").returncode == 0
    assert list_dead_letters(database_path(tmp_path)) == []


async def test_dead_letters_are_listed_and_replayed_from_python(tmp_path: Path) -> None:
    await make_dead_letter(tmp_path, {"n": 1})
    await make_dead_letter(tmp_path, {"n": 2})
    db = database_path(tmp_path)
    letters = list_dead_letters(db, topic="work")
    assert [letter.data for letter in letters] == [{"n": 1}, {"n": 2}]
    assert replay_dead_letters(db) == [letter.id for letter in letters]
    assert list_dead_letters(db) == []


async def test_a_handler_unfinished_at_shutdown_runs_again_on_the_next_start(
    tmp_path: Path,
) -> None:
    started = asyncio.Event()
    done: list[Any] = []

    async def hangs(data: Any) -> None:
        started.set()
        await asyncio.sleep(3600)

    async def finishes(data: Any) -> None:
        done.append(data)

    def app(handler: Any) -> Any:
        config = {"name": "Work", "triggers": [queue("work")]}
        settings = Settings(graceful_timeout=0.1)
        motia = Motia(None, steps=[step(config, handler)], project_dir=tmp_path, settings=settings)
        return motia, motia.asgi()

    first, first_app = app(hangs)
    with anyio.fail_after(5):
        async with first_app.router.lifespan_context(first_app):
            await first.runtime.enqueue({"topic": "work", "data": {"n": 1}})
            await started.wait()
    _, second_app = app(finishes)
    with anyio.fail_after(5):
        async with second_app.router.lifespan_context(second_app):
            while not done:
                await asyncio.sleep(0.01)
    assert done == [{"n": 1}]
    assert list_dead_letters(database_path(tmp_path)) == []
