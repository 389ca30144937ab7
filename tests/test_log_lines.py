"""What log lines may carry: no token at any level or in either format, no forged lines."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import websockets
from support import REPO, motia_process

from motia._runtime.logs import JsonFormatter, PrettyFormatter, escape_control
from motia._runtime.redaction import redact

SECRETS = ("SECRET-QUERY", "SECRET-PROTOCOL", "SECRET-BEARER", "SECRET-COOKIE")


def record(message: str, *args: Any, name: str = "motia", **extra: Any) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.INFO, __file__, 1, message, args or None, None)
    made.__dict__.update(extra)
    return made


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1:5 - "WebSocket /streams?authToken=SECRET-QUERY" [accepted]',
        "< GET /streams?room=1&authToken=SECRET-QUERY HTTP/1.1",
        "< sec-websocket-protocol: Authorization, SECRET-PROTOCOL",
        "< authorization: Bearer SECRET-BEARER",
        "< Cookie: sid=SECRET-COOKIE; theme=dark",
        "headers [(b'authorization', b'Basic SECRET-BEARER'), (b'host', b'x')]",
        "auth failed for {'Authorization': 'Bearer SECRET-BEARER'}",
        "upstream said: bearer SECRET-BEARER",
    ],
)
def test_every_token_shape_is_redacted_in_both_formats(line: str) -> None:
    for formatter in (PrettyFormatter(), JsonFormatter()):
        text = formatter.format(record("%s", line, name="uvicorn.error"))
        assert not any(secret in text for secret in SECRETS), text
        assert "[redacted]" in text
    json.loads(JsonFormatter().format(record("%s", line)))


def test_redaction_keeps_what_the_line_is_about() -> None:
    assert redact("GET /streams?room=1&authToken=abc&x=2") == (
        "GET /streams?room=1&authToken=[redacted]&x=2"
    )
    assert redact("< authorization: Bearer abc") == "< authorization: [redacted]"
    plain = "token bucket refilled; the cookie jar is empty"
    assert redact(plain) == plain


def test_data_and_exception_text_are_redacted_too() -> None:
    try:
        raise ValueError("refused Bearer SECRET-BEARER")
    except ValueError:
        import sys

        failed = record("call failed", data={"url": "/s?authToken=SECRET-QUERY"})
        failed.exc_info = sys.exc_info()
    for formatter in (PrettyFormatter(), JsonFormatter()):
        text = formatter.format(failed)
        assert "SECRET" not in text, text


def test_the_pretty_format_escapes_control_characters() -> None:
    forged = "hi\n12:00:00 ERROR [Payments] refund issued\r\x1b[2Kdone\u2028end"
    text = PrettyFormatter().format(record("%s", forged, step="Echo", data={"v": "a\nb"}))
    assert "\n" not in text and "\r" not in text and "\x1b" not in text and "\u2028" not in text
    assert "hi\\n12:00:00 ERROR [Payments] refund issued\\r\\x1b[2Kdone\\u2028end" in text
    assert escape_control("tab\tstays") == "tab\tstays"


def test_a_traceback_keeps_its_lines_but_not_terminal_escapes() -> None:
    try:
        raise ValueError("bad \x1b[31minput\r")
    except ValueError:
        import sys

        failed = record("call failed")
        failed.exc_info = sys.exc_info()
    text = PrettyFormatter().format(failed)
    assert text.count("\n") >= 3
    assert "\x1b" not in text and "\r" not in text
    assert "bad \\x1b[31minput\\r" in text


# -- a real server at DEBUG, tokens sent every way a client can --------------------------


async def _connect_with_every_token(port: int) -> None:
    url = f"ws://127.0.0.1:{port}/streams?authToken=SECRET-QUERY"
    headers = {"Authorization": "Bearer SECRET-BEARER", "Cookie": "sid=SECRET-COOKIE"}
    async with asyncio.timeout(10):
        async with websockets.connect(
            url, subprotocols=["Authorization", "SECRET-PROTOCOL"], additional_headers=headers
        ) as socket:  # type: ignore[list-item]
            join = {"streamName": "todo", "groupId": "inbox", "subscriptionId": "s1"}
            await socket.send(json.dumps({"type": "join", "data": join}))
            await socket.recv()


@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["pretty", "json"])
def test_a_server_at_debug_writes_no_token(tmp_path: Path, log_format: str) -> None:
    shutil.copytree(REPO / "steps", tmp_path / "steps", ignore=shutil.ignore_patterns("__*"))
    options = ("--log-level", "debug", "--log-format", log_format, "--access-log")
    with motia_process("start", tmp_path, *options) as server:
        asyncio.run(_connect_with_every_token(server.port))
        import httpx

        httpx.get(f"{server.url}/hello/x?authToken=SECRET-QUERY", timeout=5)
        server.stop()
        output = server.log()
    assert "sec-websocket-protocol: [redacted]" in output.lower()
    assert "/streams?authToken=[redacted]" in output
    assert "GET /hello/x?authToken=[redacted] 200" in output
    for secret in SECRETS:
        assert secret not in output, f"{secret} in the {log_format} log:\n{output}"
    if log_format == "json":
        for line in output.splitlines():
            json.loads(line)
