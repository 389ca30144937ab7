"""Browser tests: Debian's Chromium driven by Playwright against a real `motia dev` server.

Never downloads a browser. Without a Chromium binary the tests are skipped
locally and fail in CI (where ``CI`` is set and .ci/run installs Chromium).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import CHROMIUM_ARGS, DEADLINE_MS, chromium_path
from support import REPO, ServerProcess, motia_process


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests: .ci/run installs chromium)")
    pytest.skip(reason)


# Module scope: Playwright's sync API keeps an event loop running until it stops, which
# must not outlive these tests (anyio tests elsewhere start their own loops).
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        _unavailable("no chromium binary")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`motia dev` serving a copy of the repo's demo steps (fresh state, no files left behind)."""
    project = tmp_path_factory.mktemp("console-project")
    shutil.copytree(REPO / "steps", project / "steps", ignore=shutil.ignore_patterns("__pycache__"))
    with motia_process("dev", project, "--dir", "steps") as server:
        yield server
        server.stop()


@pytest.fixture
def page(browser: Any, dev_server: ServerProcess) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    context.set_default_timeout(DEADLINE_MS)
    context.set_default_navigation_timeout(DEADLINE_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"script errors in the console page: {errors}"
