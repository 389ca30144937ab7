"""The dev console in a real browser: flows, endpoint streaming, live logs, streams, state."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from browser_support import screenshot
from support import ServerProcess

pytestmark = pytest.mark.slow  # Chromium and a `motia dev` process

CONSOLE = "/__motia/console/"


def open_view(page: Any, server: ServerProcess, view: str) -> None:
    page.goto(f"{server.url}{CONSOLE}#{view}")
    page.wait_for_selector("#status.live")


def test_flow_diagram_shows_the_demo_steps_and_their_arrows(
    page: Any, dev_server: ServerProcess
) -> None:
    flows = httpx.get(f"{dev_server.url}{CONSOLE}api/flows", timeout=5).json()
    edges = [edge for flow in flows["flows"] for edge in flow["edges"]]
    assert edges, "the demo project has at least one topic between steps"
    open_view(page, dev_server, "flows")
    page.wait_for_selector('.node[data-step="CreateTodo"]')
    for name in flows["steps"]:
        assert page.locator(f'.node[data-step="{name}"]').count() >= 1, name
    for edge in edges:
        selector = (
            f'.edge[data-source="{edge["source"]}"][data-target="{edge["target"]}"]'
            f'[data-topic="{edge["topic"]}"]'
        )
        assert page.locator(selector).count() >= 1, selector
        assert page.locator(f"{selector} path[marker-end]").count() >= 1
    page.click('.node[data-step="CreateTodo"]')
    detail = page.locator('[data-detail="CreateTodo"]')
    detail.wait_for()
    assert "steps/todo/create_todo.step.py" in detail.inner_text()
    assert "BODY SCHEMA" in detail.inner_text().upper()
    assert '"description"' in detail.inner_text()
    screenshot(page, "flows")


def test_a_request_from_the_endpoint_form_streams_its_frames_into_the_page(
    page: Any, dev_server: ServerProcess
) -> None:
    open_view(page, dev_server, "endpoints")
    page.click('#endpoint-list li[data-key="POST /progress"]')
    page.click("#ep-send")
    page.wait_for_selector('.frame[data-event="complete"]')
    frames = page.locator(".frame[data-event]")
    events = [frames.nth(i).get_attribute("data-event") for i in range(frames.count())]
    assert events == ["progress"] * 5 + ["complete"]
    arrivals = [float(frames.nth(i).get_attribute("data-at") or 0) for i in range(6)]
    # The task sleeps 100 ms between frames: frames that arrived together were buffered.
    assert arrivals[4] - arrivals[0] > 250, arrivals
    assert "validating" in frames.nth(0).inner_text()
    screenshot(page, "endpoints-sse")


def test_the_todo_form_is_prefilled_from_its_body_schema(
    page: Any, dev_server: ServerProcess
) -> None:
    open_view(page, dev_server, "endpoints/CreateTodo")
    body = page.locator("#ep-body")
    body.wait_for()
    assert '"description"' in body.input_value()
    body.fill('{"description": "sent from the console"}')
    page.click("#ep-send")
    page.wait_for_selector("#ep-response .json")
    assert "sent from the console" in page.inner_text("#ep-response")
    assert page.inner_text(".response-status .code") == "201"
    screenshot(page, "endpoints-json")


def test_a_log_line_appears_live_and_its_trace_shows_the_path(
    page: Any, dev_server: ServerProcess
) -> None:
    open_view(page, dev_server, "logs")
    page.wait_for_selector("#log-list")
    name = f"browser-{uuid.uuid4().hex[:6]}"
    response = httpx.get(f"{dev_server.url}/hello/{name}", timeout=5)
    trace_id = response.headers["x-trace-id"]
    row = page.locator(".log-row", has_text=name)
    row.wait_for()
    assert "greeting" in row.inner_text()
    assert row.get_attribute("data-step") == "Hello"
    screenshot(page, "logs")
    row.locator("a.trace").click()
    page.wait_for_selector(f'#drawer[data-trace="{trace_id}"] .run[data-status="ok"]')
    assert "Hello" in page.inner_text("#trace-body")
    assert "GET /hello/:name" in page.inner_text("#trace-body")
    screenshot(page, "trace")


def test_a_todo_created_over_http_appears_in_the_stream_view(
    page: Any, dev_server: ServerProcess
) -> None:
    open_view(page, dev_server, "streams")
    page.wait_for_selector('[data-stream="todo"]')
    description = f"todo {uuid.uuid4().hex[:8]}"
    created = httpx.post(f"{dev_server.url}/todo", json={"description": description}, timeout=5)
    assert created.status_code == 201
    todo_id = created.json()["id"]
    item = page.locator(f'[data-stream="todo"] [data-group="inbox"] .item[data-item="{todo_id}"]')
    item.wait_for()
    assert description in item.inner_text()
    assert description in page.inner_text('[data-stream="todo"] .feed')
    inbox = '[data-stream="todo"] [data-group="inbox"] .subs'
    with httpx.stream("GET", f"{dev_server.url}/streams/todo/inbox", timeout=5) as subscriber:
        assert subscriber.status_code == 200
        page.wait_for_selector(f'{inbox}[data-subscribers="1"]')
        screenshot(page, "streams")
    page.wait_for_selector(f'{inbox}[data-subscribers="0"]')
    open_view(page, dev_server, "state")
    page.locator(f'[data-group="todos"] tr[data-key="{todo_id}"]').wait_for()
    screenshot(page, "state")


def test_the_queue_view_shows_topics(page: Any, dev_server: ServerProcess) -> None:
    open_view(page, dev_server, "queues")
    page.wait_for_selector("#queue-topics, #queues-empty")
    screenshot(page, "queues")
