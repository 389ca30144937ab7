"""Shared pytest configuration."""

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def motia_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """``caplog`` fed straight from the ``motia`` logger, which may not propagate, and
    holding each record once: the logger does not propagate while it is fed.

    pytest reuses one capture handler for every test, so it is removed again afterwards:
    left on the logger, later tests would see each record twice.
    """
    logger = logging.getLogger("motia")
    propagated, logger.propagate = logger.propagate, False
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="motia")
    yield caplog
    logger.removeHandler(caplog.handler)
    logger.propagate = propagated


import asyncio  # noqa: E402
import socket  # noqa: E402
from collections.abc import AsyncIterator, Callable  # noqa: E402
from contextlib import AbstractAsyncContextManager, asynccontextmanager  # noqa: E402
from typing import Any  # noqa: E402

import anyio  # noqa: E402
import uvicorn  # noqa: E402


@asynccontextmanager
async def _live_server(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with a real uvicorn server on a free port; yield its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, loop="asyncio", lifespan="on", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    try:
        with anyio.fail_after(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with anyio.fail_after(15):
            await task


@pytest.fixture
def live_server() -> Callable[[Any], AbstractAsyncContextManager[str]]:
    """``async with live_server(app) as url:`` runs a real uvicorn server in-process."""
    return _live_server
