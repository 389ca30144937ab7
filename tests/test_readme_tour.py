"""The README's tour, followed file by file: no step fails, and every curl command works."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import anyio
import pytest
from support import REPO

from motia import Motia
from motia.testing.running import RunningApp

pytestmark = pytest.mark.anyio

_README = (REPO / "README.md").read_text(encoding="utf-8")
_TOUR = _README[_README.index("## A 60-second tour") : _README.index("The demo project in")]
FILES = re.findall(r"^```python\n(# steps/.*?)^```", _TOUR, re.MULTILINE | re.DOTALL)
CURLS = [
    line
    for block in re.findall(r"^```bash\n(.*?)^```", _TOUR, re.MULTILINE | re.DOTALL)
    for line in block.splitlines()
    if line.startswith("curl ")
]


def curl_request(line: str) -> dict[str, Any]:
    """method, path, headers and body of a curl line (the options the README uses)."""
    words = iter(shlex.split(line, comments=True)[1:])
    request: dict[str, Any] = {"method": "GET", "headers": {}, "content": None, "sse": False}
    for word in words:
        if word == "-N":
            request["sse"] = True
        elif word == "-X":
            request["method"] = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(": ")
            request["headers"][name] = value
        elif word == "-d":
            request["content"] = next(words)
        else:
            request["path"] = "/" + word.split("/", 1)[1]
    return request


def write_files(project: Path, count: int) -> None:
    for block in FILES[:count]:
        target = project / block.splitlines()[0].removeprefix("# ")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block, encoding="utf-8")


async def call(running: RunningApp, line: str) -> tuple[int, str]:
    request = curl_request(line)
    client = running.client()
    options = {"headers": request["headers"], "content": request["content"]}
    with anyio.fail_after(10):
        if not request["sse"] or request["method"] != "GET":
            response = await client.request(request["method"], request["path"], **options)
            return response.status_code, response.text
        async with client.stream("GET", request["path"]) as response:
            if response.status_code != 200:
                return response.status_code, (await response.aread()).decode()
            async for line in response.aiter_lines():  # the first event is enough
                if line.startswith("data:"):
                    return 200, line
    raise AssertionError(f"{line}: the stream ended without an event")


def test_the_tour_has_its_files_and_commands() -> None:
    assert [block.splitlines()[0] for block in FILES] == [
        "# steps/tour/progress.step.py",
        "# steps/tour/tourtodo.stream.py",
        "# steps/tour/create_todo.step.py",
        "# steps/tour/count_todos.step.py",
    ]
    assert [curl_request(line)["path"] for line in CURLS] == [
        "/tour/progress",
        "/tour/todo",
        "/streams/tourtodo/inbox",
    ]


@pytest.mark.parametrize("count", range(1, len(FILES) + 1))
async def test_following_the_tour_in_order_never_hits_an_error(tmp_path: Path, count: int) -> None:
    write_files(tmp_path, count)
    motia = Motia("steps", project_dir=tmp_path, store="memory")  # any broken file fails here
    async with RunningApp(motia) as running:
        statuses = [(await call(running, line))[0] for line in CURLS]
    assert all(status < 400 or status == 404 for status in statuses), statuses


async def test_every_tour_command_answers_as_described(tmp_path: Path) -> None:
    write_files(tmp_path, len(FILES))
    motia = Motia("steps", project_dir=tmp_path, store="memory")
    async with RunningApp(motia) as running:
        progress, todo, stream = CURLS
        status, body = await call(running, progress)
        assert status == 200 and body.count("event: progress") == 4
        status, body = await call(running, todo)
        assert status == 201 and json.loads(body)["description"] == "try it"
        status, body = await call(running, stream)
        assert "try it" in body
        with anyio.fail_after(5):
            while await motia.runtime.state.get("tour", "stats") != {"created": 1}:
                await anyio.sleep(0.02)
