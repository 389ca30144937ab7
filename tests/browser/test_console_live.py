"""The console stays live in `motia dev`: reloads, a busy cron, the counter, queue failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import DEADLINE_MS
from support import ServerProcess, motia_process, write_step

pytestmark = pytest.mark.slow  # Chromium and a `motia dev` process

CONSOLE = "/__motia/console/"
RELOAD_MS = 30_000

PING = """
from motia import http

config = {"name": "Ping", "triggers": [http("GET", "/ping/:word")]}


async def handler(args, ctx):
    word = args.request.path_params["word"]
    if word.startswith("fail"):
        ctx.logger.error("ping failed", {"word": word})
    else:
        ctx.logger.info("ping", {"word": word})
    return {"status": 200, "body": {}}
"""
TICK = """
from motia import cron

config = {"name": "Tick", "triggers": [cron("* * * * * *")]}


async def handler(ctx):
    ctx.logger.info("tick")
"""
CHORES = """
from motia import NonRetryableError, http, queue

config = {
    "name": "Chores",
    "triggers": [http("POST", "/chore"), queue("chore.do")],
    "enqueues": ["chore.do"],
}


async def handler(input, ctx):
    if ctx.trigger.type == "http":
        await ctx.enqueue({"topic": "chore.do", "data": {}})
        return {"status": 202, "body": {}}
    raise NonRetryableError("no chores today")
"""
ADDED = """
from motia import http

config = {"name": "AddedLater", "triggers": [http("GET", "/added")]}


async def handler(args, ctx):
    return {"status": 200, "body": {}}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("live-console")
    files = {"ping.step.py": PING, "tick.step.py": TICK, "chores.step.py": CHORES}
    for name, source in files.items():
        write_step(root / "steps", name, source)
    return root


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[ServerProcess]:
    with motia_process("dev", project, "--dir", "steps") as running:
        yield running
        running.stop()


@pytest.fixture
def tab(browser: Any, server: ServerProcess) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    context.set_default_timeout(DEADLINE_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"script errors in the console page: {errors}"


def open_view(page: Any, server: ServerProcess, view: str) -> None:
    page.goto(f"{server.url}{CONSOLE}#{view}")
    page.wait_for_selector("#status.live")


def counter(page: Any) -> str:
    return str(page.inner_text("#log-counter"))


def test_a_busy_cron_does_not_fill_the_logs_tab(tab: Any, server: ServerProcess) -> None:
    open_view(tab, server, "logs")
    tab.wait_for_function(
        "document.querySelector('#log-counter').textContent.includes('cron lines hidden')"
    )
    httpx.get(f"{server.url}/ping/hello", timeout=5)
    tab.locator(".log-row", has_text="hello").wait_for()
    assert tab.locator('.log-row[data-step="Tick"]').count() == 0
    tab.check("#log-cron")
    tab.locator('.log-row[data-step="Tick"]').first.wait_for()
    assert "cron lines hidden" not in counter(tab)
    tab.uncheck("#log-cron")
    tab.select_option("#log-step", "Tick")
    tab.locator('.log-row[data-step="Tick"]').first.wait_for()


def test_the_counter_counts_rows_not_the_placeholder(tab: Any, server: ServerProcess) -> None:
    httpx.get(f"{server.url}/ping/counted", timeout=5)
    open_view(tab, server, "logs")
    tab.locator(".log-row", has_text="counted").wait_for()
    tab.fill("#log-trace", "no-such-trace")
    tab.wait_for_selector("#log-list .empty")
    assert "No lines match the filters" in tab.inner_text("#log-list")
    assert counter(tab).startswith("0 of ")


def test_a_queue_failure_shows_under_its_step(tab: Any, server: ServerProcess) -> None:
    open_view(tab, server, "logs")
    assert httpx.post(f"{server.url}/chore", timeout=5).status_code == 202
    tab.wait_for_selector('#log-step option[value="Chores"]', state="attached")
    tab.select_option("#log-step", "Chores")
    failure = tab.locator('.log-row[data-level="error"]', has_text="dead-letter queue")
    failure.wait_for()
    assert failure.get_attribute("data-step") == "Chores"


def test_a_reload_shows_the_new_step_and_keeps_the_lines(
    tab: Any, server: ServerProcess, project: Path
) -> None:
    httpx.get(f"{server.url}/ping/fail-before-reload", timeout=5)
    open_view(tab, server, "flows")
    tab.wait_for_selector('.node[data-step="Ping"]')
    write_step(project / "steps", "added.step.py", ADDED)
    write_step(project / "steps", "broken.step.py", "config = {\n")
    tab.wait_for_selector('.node[data-step="AddedLater"]', timeout=RELOAD_MS)
    assert "broken.step.py" in tab.inner_text("#view")
    tab.click('#tabs a[data-view="logs"]')
    before = tab.locator('.log-row[data-level="error"]', has_text="fail-before-reload")
    before.wait_for()
    tab.locator('.log-row[data-level="error"]', has_text="broken.step.py").first.wait_for()
    fresh = tab.context.new_page()
    open_view(fresh, server, "logs")
    fresh.locator(".log-row", has_text="fail-before-reload").wait_for()
    fresh.locator(".log-row", has_text="app restarted").wait_for()
