"""Testing Motia steps: an in-process app, clients that never hang, and a fake context.

Installing the package registers a pytest plugin (``motia.pytest_plugin``) with
these fixtures (each test gets a fresh app with an in-memory store):

- ``motia_app``: the ``Motia`` app built from the steps folder (ini option
  ``motia_steps_dir``, default ``steps``; per test ``@pytest.mark.motia(steps_dir=...,
  settings=..., dev=..., steps=[...], streams=[...])``; relative paths start at the rootdir).
- ``motia_client``: a ``MotiaClient`` (an ``httpx.AsyncClient``) calling the app in-process
  with its lifespan running.
- ``motia_server``: a ``LiveServer``, the same app behind a real uvicorn server on a free port.
- ``motia_stream_client``: a ``StreamClient`` connected to it over WebSocket (PROTOCOL.md).

Reading an event stream: one call, with a deadline, that never hangs::

    async def test_progress(motia_client):
        async with motia_client.sse("/progress", method="POST", max_events=3) as events:
            received = [event async for event in events]
        assert [e.event for e in received] == ["progress"] * 3

Iteration stops after ``max_events`` events or when the server ends the stream;
past ``timeout`` seconds (default 5) the test fails listing what arrived. Leaving
the block disconnects and returns once the handler has finished (its ``finally``
ran). ``events = await motia_client.sse_events(...)`` is the one-line form.

Streams over WebSocket::

    async def test_todo(motia_stream_client, motia_client):
        assert await motia_stream_client.join("todo", "inbox") == []
        await motia_client.post("/todo", json={"description": "x"})
        message = await motia_stream_client.next_message(type="create")

Unit-testing one handler, no app: ``run_http``, ``run_queue``, ``run_cron``,
``run_state`` and ``run_stream`` take a step (object, module, ``*.step.py`` path) or a
bare handler and return what it did; ``FakeContext`` records enqueues, state and
stream writes, ephemeral events and log lines::

    result = await run_http("steps/todo/create_todo.step.py", body={"description": "x"})
    assert result.status == 201 and result.ctx.stream_writes[0].kind == "create"
"""

from motia.exceptions import JoinRefused, StreamClosed
from motia.sse import ServerSentEvent
from motia.testing.client import MotiaClient
from motia.testing.context import (
    FakeContext,
    LogEntry,
    RecordingLogger,
    SentEvent,
    Write,
    create_test_context,
)
from motia.testing.events import EventStream
from motia.testing.http_runs import HttpResult, run_http
from motia.testing.lifespan import Lifespan
from motia.testing.running import RunningApp
from motia.testing.runs import StepRun, run_cron, run_queue, run_state, run_stream
from motia.testing.server import LiveServer
from motia.testing.steps import load_step
from motia.testing.stream_client import StreamClient
from motia.testing.transport import StreamingASGITransport

__all__ = [
    "EventStream",
    "FakeContext",
    "HttpResult",
    "JoinRefused",
    "Lifespan",
    "LiveServer",
    "LogEntry",
    "MotiaClient",
    "RecordingLogger",
    "RunningApp",
    "SentEvent",
    "ServerSentEvent",
    "StepRun",
    "StreamClient",
    "StreamClosed",
    "StreamingASGITransport",
    "Write",
    "create_test_context",
    "load_step",
    "run_cron",
    "run_http",
    "run_queue",
    "run_state",
    "run_stream",
]
