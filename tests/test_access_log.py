"""The access log: one line per request with method, path, status, duration and trace id."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from support import REPO, motia_process

from motia import Motia, http, step
from motia._runtime.logs import JsonFormatter, PrettyFormatter
from motia.cli import _parser
from motia.settings import Settings

pytestmark = pytest.mark.anyio


async def hello(request: Any, ctx: Any) -> dict[str, Any]:
    return {"status": 201, "body": {"ok": True}}


async def broken(request: Any, ctx: Any) -> None:
    raise RuntimeError("kaput")


STEPS = [
    step({"name": "Hello", "triggers": [http("POST", "/hello")]}, hello),
    step({"name": "Broken", "triggers": [http("GET", "/broken")]}, broken),
]


async def requests(settings: Settings, *calls: tuple[str, str]) -> list[httpx.Response]:
    app = Motia(None, steps=STEPS, store="memory", settings=settings).asgi()
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    with anyio.fail_after(10):
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
        ):
            return [await client.request(method, url) for method, url in calls]


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "motia.access"]


async def test_each_request_is_one_line_with_status_duration_and_trace_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="motia.access")
    calls = [("POST", "/hello?authToken=SECRET&x=1"), ("GET", "/missing"), ("GET", "/broken")]
    responses = await requests(Settings(access_log=True), *calls)
    lines = access_lines(caplog)
    assert [(r.http["method"], r.http["path"], r.http["status"]) for r in lines] == [  # type: ignore[attr-defined]
        ("POST", "/hello?authToken=[redacted]&x=1", 201),
        ("GET", "/missing", 404),
        ("GET", "/broken", 500),
    ]
    assert lines[0].trace_id == responses[0].headers["x-trace-id"]  # type: ignore[attr-defined]
    assert lines[2].trace_id == responses[2].headers["x-trace-id"]  # type: ignore[attr-defined]
    assert all(r.http["duration_ms"] >= 0 for r in lines)  # type: ignore[attr-defined]
    assert lines[0].getMessage().startswith("POST /hello?authToken=[redacted]&x=1 201 ")
    assert "SECRET" not in caplog.text


async def test_both_formats_carry_the_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="motia.access")
    responses = await requests(Settings(access_log=True), ("POST", "/hello"))
    line = access_lines(caplog)[0]
    trace_id = responses[0].headers["x-trace-id"]
    entry = json.loads(JsonFormatter().format(line))
    assert entry["logger"] == "motia.access" and entry["trace_id"] == trace_id
    assert entry["http"]["method"] == "POST" and entry["http"]["status"] == 201
    pretty = PrettyFormatter().format(line)
    assert f" {trace_id[:8]} POST /hello 201 " in pretty and pretty.endswith("ms")


async def test_off_unless_asked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="motia.access")
    await requests(Settings(), ("POST", "/hello"), ("GET", "/missing"))
    assert access_lines(caplog) == []


async def test_the_consoles_own_requests_are_debug_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="motia.access")
    settings = Settings(access_log=True, console=True, dev=True)
    await requests(settings, ("GET", "/__motia/console/api/flows"), ("POST", "/hello"))
    assert [r.http["path"] for r in access_lines(caplog)] == ["/hello"]  # type: ignore[attr-defined]


def test_on_in_dev_and_opt_in_for_start() -> None:
    parser = _parser()
    assert parser.parse_args(["dev"]).access_log is True
    assert parser.parse_args(["dev", "--no-access-log"]).access_log is False
    assert parser.parse_args(["start"]).access_log is False
    assert parser.parse_args(["start", "--access-log"]).access_log is True


@pytest.mark.slow
def test_motia_dev_writes_the_access_log_and_uvicorns_is_gone(tmp_path: Path) -> None:
    shutil.copytree(REPO / "steps", tmp_path / "steps", ignore=shutil.ignore_patterns("__*"))
    with motia_process("dev", tmp_path, "--log-format", "json") as server:
        response = httpx.get(f"{server.url}/hello/ada", timeout=5)
        missing = httpx.get(f"{server.url}/nowhere", timeout=5)
        server.stop()
        entries = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "motia.access"]
    access = [e for e in access if e["http"]["path"] != "/__motia_probe__"]
    assert [(e["http"]["path"], e["http"]["status"]) for e in access] == [
        ("/hello/ada", response.status_code),
        ("/nowhere", missing.status_code),
    ]
    assert access[0]["trace_id"] == response.headers["x-trace-id"]
    assert not any(e["logger"] == "uvicorn.access" for e in entries)


async def test_no_response_is_499_when_the_app_returns_and_500_when_it_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from motia._http.access_log import AccessLog

    caplog.set_level(logging.INFO, logger="motia.access")
    scope = {"type": "http", "method": "POST", "path": "/upload", "query_string": b""}

    async def client_left(scope: Any, receive: Any, send: Any) -> None:
        return None

    async def raised(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("kaput")

    async def nothing() -> Any: ...
    async def ignore(message: Any) -> None: ...

    await AccessLog().serve(scope, nothing, ignore, client_left)
    with pytest.raises(RuntimeError):
        await AccessLog().serve(scope, nothing, ignore, raised)
    assert [r.http["status"] for r in access_lines(caplog)] == [499, 500]  # type: ignore[attr-defined]
