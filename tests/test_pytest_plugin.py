"""The pytest plugin, exercised on generated projects with ``pytester``."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # each test runs pytest in a process

pytest_plugins = ["pytester"]

HELLO = """
from motia import http

config = {"name": "Hello", "triggers": [http("GET", "/hello/:name")]}

async def handler(args, ctx):
    return {"status": 200, "body": {"hello": args.request.path_params["name"]}}
"""

TICKS = """
import asyncio
from motia import http

config = {"name": "Ticks", "triggers": [http("POST", "/ticks")]}

async def handler(args, ctx):
    try:
        await args.response.headers({"content-type": "text/event-stream"})
        index = 0
        while True:
            await args.response.send(event="tick", data={"i": index})
            index += 1
            await asyncio.sleep(0.005)
    finally:
        await ctx.state.set("cleanup", "ticks", {"done": True})
"""

SILENT = """
import asyncio
from motia import http

config = {"name": "Silent", "triggers": [http("GET", "/silent")]}

async def handler(args, ctx):
    await args.response.headers({"content-type": "text/event-stream"})
    await args.response.send(event="hello", data="first")
    await asyncio.sleep(3600)
"""

TODO_STREAM = """
from motia import StreamConfig

config = StreamConfig(name="todo")
"""

ONLY_ROUTE = """
from motia import http

config = {{"name": "{name}", "triggers": [http("GET", "/which")]}}

async def handler(args, ctx):
    return {{"status": 200, "body": "{name}"}}
"""

INI = """
[pytest]
anyio_mode = auto
timeout = 30
filterwarnings = error
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    steps = pytester.mkdir("steps")
    (steps / "hello.step.py").write_text(HELLO)
    (steps / "ticks.step.py").write_text(TICKS)
    (steps / "silent.step.py").write_text(SILENT)
    (steps / "todo.stream.py").write_text(TODO_STREAM)
    return pytester


def test_fixtures_serve_http_sse_and_streams(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest
        from motia import Motia
        from motia.testing import MotiaClient, StreamClient

        async def test_http(motia_client, motia_app):
            assert isinstance(motia_app, Motia) and isinstance(motia_client, MotiaClient)
            response = await motia_client.get("/hello/ada")
            assert response.json() == {"hello": "ada"}

        async def test_endless_sse(motia_client, motia_app):
            async with motia_client.sse("/ticks", method="POST", max_events=3) as events:
                ticks = [event.json()["i"] async for event in events]
            assert ticks == [0, 1, 2]
            assert await motia_app.runtime.state.get("cleanup", "ticks") == {"done": True}

        async def test_state_is_fresh_per_test(motia_app):
            assert await motia_app.runtime.state.get("cleanup", "ticks") is None

        async def test_stream_client(motia_stream_client, motia_app, motia_server):
            assert isinstance(motia_stream_client, StreamClient)
            assert motia_server.ws_url.startswith("ws://127.0.0.1:")
            assert await motia_stream_client.join("todo", "inbox") == []
            await motia_app.runtime.streams.todo.set("inbox", "a", {"title": "a"})
            message = await motia_stream_client.next_message(type="create")
            assert message["event"]["data"] == {"title": "a", "id": "a"}
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_a_stream_that_never_delivers_fails_clearly(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        async def test_waits_for_too_much(motia_client):
            async with motia_client.sse("/silent", max_events=2, timeout=0.3) as events:
                async for event in events:
                    pass
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*GET /silent: expected 2 event(s) within 0.3s; received 1:*", "*data='first'*"]
    )


def test_fifty_streaming_tests_run_clean(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.parametrize("n", range(50))
        async def test_stream(motia_client, motia_app, n):
            events = await motia_client.sse_events("/ticks", method="POST", max_events=2)
            assert [e.json()["i"] for e in events] == [0, 1]
            assert await motia_app.runtime.state.get("cleanup", "ticks") == {"done": True}

        async def test_zz_no_task_left_behind():
            # Only the test runner's own task may be left: nothing the app started.
            left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            assert [t for t in left if "TestRunner" not in repr(t.get_coro())] == []
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=51)
    assert "warning" not in result.stdout.str().lower()


def test_ini_option_and_marker_choose_the_steps_folder(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "motia_steps_dir = first\n")
    for name in ("first", "second"):
        (pytester.mkdir(name) / "which.step.py").write_text(ONLY_ROUTE.format(name=name))
    pytester.makepyfile(
        """
        import pytest

        async def test_ini(motia_client):
            assert (await motia_client.get("/which")).text == "first"

        @pytest.mark.motia(steps_dir="second", settings={"dev": True})
        async def test_marker(motia_client, motia_app):
            assert (await motia_client.get("/which")).text == "second"
            assert motia_app.settings.dev

        @pytest.mark.motia(steps_dir="nowhere")
        def test_missing(motia_app):
            pass

        @pytest.mark.motia(colour="red")
        def test_unknown_option(motia_app):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*steps folder *nowhere not found; set `motia_steps_dir`*",
            "*@pytest.mark.motia: unknown option(s)*colour*",
        ]
    )
