"""Property-based requests (schemathesis) against the demo steps: never a server error.

The demo app in ``steps/`` runs on a real uvicorn server with a memory store;
schemathesis reads its ``/openapi.json`` and sends generated requests, valid
and invalid, to every operation. The examples are bounded and derandomized so
that a run is quick and repeatable; every request and every test has a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from stream_server import ServerThread
from support import REPO

from motia import Motia

REQUEST_TIMEOUT = 5.0
"""Seconds a single response may take (the demo SSE steps stream for about a second)."""
EXAMPLES = 12


def demo_app() -> Motia:
    return Motia("steps", project_dir=REPO, store="memory")


OPERATIONS = [
    (method.upper(), path)
    for path, item in demo_app().openapi()["paths"].items()
    for method in item
]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with pytest.MonkeyPatch.context() as env:
        env.delenv("OPENAI_API_KEY", raising=False)  # the chat step streams a local reply
        with ServerThread(demo_app()) as running:
            yield running


@pytest.fixture(scope="module")
def schema(server: ServerThread) -> Any:
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", timeout=REQUEST_TIMEOUT)


def test_every_demo_http_trigger_is_fuzzed() -> None:
    assert ("GET", "/hello/{name}") in OPERATIONS
    assert ("POST", "/todo") in OPERATIONS


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_server_error(server: ServerThread, schema: Any, method: str, path: str) -> None:
    operation = schema[path][method]
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(case=cases)
    def check(case: Any) -> None:
        started = time.monotonic()
        response = case.call(base_url=server.url, timeout=REQUEST_TIMEOUT)
        took = time.monotonic() - started  # the whole body: streamed responses included
        case.validate_response(response, checks=[not_a_server_error])
        assert took < REQUEST_TIMEOUT, f"{case.as_curl_command()} took {took:.1f}s"

    check()
