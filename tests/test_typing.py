"""Handlers and tests type-check against motia as users write them (``py.typed`` seams)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

SNIPPET = """
from typing import Any, assert_type

from pydantic import BaseModel

from motia import ApiRequest, FlowContext, MotiaHttpArgs, MotiaHttpResponse
from motia._runtime.state import StateManager
from motia._runtime.streams import Stream, Streams
from motia.testing import FakeContext


class Todo(BaseModel):
    id: str


async def handler(args: MotiaHttpArgs[Todo], ctx: FlowContext[Any]) -> None:
    assert_type(args.request.body, Todo)
    assert_type(args.body, Todo)
    assert_type(args.response, MotiaHttpResponse)
    assert_type(ctx.state, StateManager)
    assert_type(ctx.streams, Streams)
    assert_type(ctx.streams.todo, Stream)
    assert_type(ctx.streams["todo"], Stream)


def body_of(request: ApiRequest[Todo]) -> Todo:
    return request.body


def fake() -> FlowContext[Any]:
    return FakeContext()
"""


@pytest.mark.slow
def test_handler_annotations_give_the_body_the_response_state_and_streams(
    tmp_path: Path,
) -> None:
    (tmp_path / "handler.py").write_text(SNIPPET)
    # MYPYPATH: mypy cannot follow the import hook of an editable install.
    env = {**os.environ, "MYPYPATH": str(REPO)}
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache")]
    result = subprocess.run(
        [*command, "handler.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout + result.stderr
