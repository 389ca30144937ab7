"""What is alive when serving starts is kept out of the garbage collector's full passes."""

from __future__ import annotations

import gc

import pytest

from motia import Motia

pytestmark = pytest.mark.anyio


async def test_startup_objects_are_frozen_while_serving_and_thawed_after() -> None:
    app = Motia(steps_dir=None, store="memory").asgi()
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
        garbage = [[]]
        garbage.append(garbage)  # a cycle made while serving is still collected
        del garbage
        assert gc.collect() > 0
    assert gc.get_freeze_count() == 0
