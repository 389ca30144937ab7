"""Scenarios 1 and 2: ``GET /hello`` (JSON) and ``POST /echo`` (pydantic validation) under wrk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.apps.payloads import ECHO_BODY, HELLO_BYTES, Item
from bench.config import Config
from bench.load import wrk
from bench.sampling import APPS, Sample, interleave, per_cpu, report, window
from bench.server import Server, fetch_raw, serve
from bench.stats import bar

PEERS = ("raw", "starlette", "fastapi", "motia")
ECHO_REPLY = Item.model_validate_json(ECHO_BODY).model_dump_json().encode()


def run(config: Config) -> list[dict[str, Any]]:
    script = wrk.post_script(ECHO_BODY)
    try:
        hello = _scenario(config, "GET", "/hello", None, HELLO_BYTES)
        echo = _scenario(config, "POST", "/echo", script, ECHO_REPLY)
    finally:
        script.unlink()
    hello.update(id="hello", title="1. GET /hello (JSON step)", bars=_bars(hello, 0.9, 1.8))
    echo.update(id="echo", title="2. POST /echo (pydantic body)", bars=_bars(echo, 1.0, 1.5))
    return [hello, echo]


def _scenario(
    config: Config, method: str, path: str, script: Path | None, expected: bytes
) -> dict[str, Any]:
    def measure(peer: str) -> Sample:
        with serve(APPS[peer]) as server:
            wire = _check(server, method, path, expected)
            wrk.run(server.port, path, seconds=config.http_warmup,
                    connections=config.http_connections, script=script)  # fmt: skip
            with window(server) as spent:
                result = wrk.run(server.port, path, seconds=config.http_seconds,
                                 connections=config.http_connections, script=script)  # fmt: skip
        if result.errors:
            raise RuntimeError(f"{peer} {method} {path}: {result.errors} errors under load")
        server_cpu, _ = spent.utilisation()
        extra = {"wire_bytes": wire, "per_cpu": per_cpu(result.rate, server_cpu)}
        return Sample(result.rate, server_cpu, result.cpu / spent.seconds, extra)

    return report(interleave(PEERS, config.rounds, measure), "req/s")


def _check(server: Server, method: str, path: str, expected: bytes) -> int:
    """Every peer must answer 200 with the same body; returns the response's size on the wire."""
    body = ECHO_BODY if method == "POST" else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    raw = fetch_raw(server.port, head.encode() + body)
    status_line, _, rest = raw.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    if b" 200 " not in status_line + b" " or payload != expected:
        raise RuntimeError(f"{method} {path} answered {status_line!r} {payload[:200]!r}")
    return len(raw)


def _bars(result: dict[str, Any], starlette: float, fastapi: float) -> list[dict[str, Any]]:
    ratios = result["ratios"]
    return [
        bar(f"motia / starlette >= {starlette}", ratios["starlette"]["median"], starlette),
        bar(f"motia / fastapi >= {fastapi}", ratios["fastapi"]["median"], fastapi),
    ]
