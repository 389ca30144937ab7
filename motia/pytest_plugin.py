"""The pytest plugin, registered through the ``pytest11`` entry point: fixtures for Motia apps.

Fixtures (see ``motia.testing`` for the clients they return):

- ``motia_app``: a fresh ``Motia`` app built from the steps folder, in-memory store.
- ``motia_running``: that app with its lifespan running (a ``RunningApp``).
- ``motia_client``: an in-process ``MotiaClient`` (httpx) with ``sse()``/``sse_events()``.
- ``motia_server``: a ``LiveServer`` (uvicorn on a free port) serving the same app.
- ``motia_stream_client``: a ``StreamClient`` connected to it over WebSocket.

The steps folder is the ini option ``motia_steps_dir`` (default ``steps``); a test
or module changes it and other options with ``@pytest.mark.motia(steps_dir=...,
settings=Settings(...) or {...}, dev=..., steps=[...], streams=[...],
stream_auth=..., timeout=5.0)``. Relative folders start at pytest's rootdir.
The async fixtures run on anyio's asyncio backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from motia.app import Motia
    from motia.testing import LiveServer, MotiaClient, RunningApp, StreamClient

__all__ = [
    "motia_app",
    "motia_client",
    "motia_running",
    "motia_server",
    "motia_stream_client",
]

_MARKER_OPTIONS = ("dev", "settings", "steps", "steps_dir", "stream_auth", "streams", "timeout")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "motia_steps_dir",
        "steps folder of the app the motia fixtures build (relative to the rootdir)",
        default="steps",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "motia(steps_dir=None, settings=None, dev=None, steps=(), streams=(), stream_auth=None, "
        "timeout=5.0): options of the app built by the motia fixtures",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("motia"))):
        options.update(marker.kwargs)  # the closest marker (the test's own) wins
    unknown = sorted(set(options) - set(_MARKER_OPTIONS))
    if unknown:
        message = f"@pytest.mark.motia: unknown option(s) {unknown}; known: {_MARKER_OPTIONS}"
        pytest.fail(message, pytrace=False)
    return options


def _steps_dir(config: pytest.Config, options: dict[str, Any]) -> Path | None:
    value = options.get("steps_dir") or config.getini("motia_steps_dir")
    folder = Path(value) if Path(value).is_absolute() else config.rootpath / value
    if folder.is_dir():
        return folder
    if options.get("steps") or options.get("streams"):
        return None
    pytest.fail(
        f"motia fixtures: steps folder {folder} not found; set `motia_steps_dir` in the pytest "
        "ini file or use @pytest.mark.motia(steps_dir=...)",
        pytrace=False,
    )


@pytest.fixture
def motia_app(request: pytest.FixtureRequest) -> Motia:
    """A fresh app from the steps folder (in-memory store, nothing started)."""
    from motia.app import Motia
    from motia.settings import Settings

    options = _options(request)
    settings = options.get("settings")
    if isinstance(settings, dict):
        settings = Settings(**settings)
    return Motia(
        _steps_dir(request.config, options),
        steps=options.get("steps", ()),
        streams=options.get("streams", ()),
        settings=settings,
        dev=options.get("dev"),
        project_dir=request.config.rootpath,
        store="memory",
        stream_auth=options.get("stream_auth"),
    )


@pytest.fixture
async def motia_running(
    motia_app: Motia, request: pytest.FixtureRequest, anyio_backend: Any
) -> AsyncIterator[RunningApp]:
    """``motia_app`` with its lifespan running; ``.client()``, ``.stream_client()`` make more."""
    from motia.testing import RunningApp

    backend = anyio_backend if isinstance(anyio_backend, str) else anyio_backend[0]
    if backend != "asyncio":
        pytest.skip(f"the motia fixtures run on asyncio, not {backend}")
    timeout = float(_options(request).get("timeout", 5.0))
    async with RunningApp(motia_app, timeout=timeout) as running:
        yield running


@pytest.fixture
async def motia_client(motia_running: RunningApp) -> MotiaClient:
    """An in-process HTTP client for the app (``sse()`` reads event streams safely)."""
    return motia_running.client()


@pytest.fixture
async def motia_server(motia_running: RunningApp) -> LiveServer:
    """The app behind a real uvicorn server on a free local port (``.url``, ``.ws_url``)."""
    return await motia_running.server()


@pytest.fixture
async def motia_stream_client(motia_running: RunningApp) -> StreamClient:
    """A WebSocket stream client connected to ``motia_server`` at ``/streams``."""
    return await motia_running.stream_client()
