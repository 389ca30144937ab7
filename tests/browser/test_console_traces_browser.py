"""The trace waterfall in a real browser: a request's spans, nested, with their log lines."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_support import screenshot
from support import REPO, ServerProcess, motia_process

pytestmark = pytest.mark.slow  # Chromium and a `motia dev` process

CONSOLE = "/__motia/console/"


@pytest.fixture(scope="module")
def traced_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`motia dev` on the demo steps, tracing (spans exported to its own output)."""
    project = tmp_path_factory.mktemp("traced-project")
    shutil.copytree(REPO / "steps", project / "steps", ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OTEL_TRACES_EXPORTER", "console")
        env.setenv("OTEL_SERVICE_NAME", "console-demo")
        with motia_process("dev", project, "--dir", "steps") as server:
            yield server
            server.stop()


@pytest.fixture
def traced_page(browser: Any, traced_server: ServerProcess) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"script errors in the console page: {errors}"


def test_a_log_line_leads_to_its_trace_drawn_as_nested_spans(
    traced_page: Any, traced_server: ServerProcess
) -> None:
    page = traced_page
    page.goto(f"{traced_server.url}{CONSOLE}#logs")
    page.wait_for_selector("#status.live")
    response = httpx.post(
        f"{traced_server.url}/todo", json={"description": "trace me through the queue"}, timeout=5
    )
    assert response.status_code == 201
    trace_id = response.headers["x-trace-id"]
    link = page.locator(f'.log-row a.trace[data-trace="{trace_id}"]').first
    link.click()
    page.click("#drawer a:has-text('Waterfall')")
    page.wait_for_url(f"**#traces/{trace_id}")
    page.wait_for_selector('.span-row:has-text("step:SummarizeTodo")')

    root = page.locator('.span-row[data-depth="0"]')
    assert root.count() == 1 and "step:CreateTodo" in root.inner_text()
    create = root
    summarize = page.locator('.span-row:has-text("step:SummarizeTodo")')
    assert summarize.get_attribute("data-depth") == "2"  # the request > enqueue > the run
    assert page.locator(f'.trace-item.active[data-trace="{trace_id}"]').count() == 1

    create.click()
    logs = page.locator(".span-log")
    logs.first.wait_for()
    assert "todo created" in logs.first.inner_text()
    screenshot(page, "traces-waterfall")
