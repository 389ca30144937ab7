"""The waits between attempts to reach a server that went away."""

import random
from types import SimpleNamespace

import pytest

from motia._core import backoff as module
from motia._core.backoff import Backoff

pytestmark = pytest.mark.anyio


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds each wait asked to sleep (nothing sleeps)."""
    asked: list[float] = []

    async def sleep(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(module, "asyncio", SimpleNamespace(sleep=sleep))
    return asked


async def test_waits_double_up_to_the_cap_with_jitter_and_start_again_on_reset(
    slept: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "random", SimpleNamespace(uniform=lambda low, high: high))
    backoff = Backoff(first=0.1, cap=0.5)
    for _ in range(5):
        await backoff.wait()
    backoff.reset()
    await backoff.wait()
    assert slept == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5, 0.1])


async def test_each_wait_is_between_half_and_all_of_its_step(
    slept: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "random", random.Random(3))
    backoff = Backoff(first=1.0, cap=1.0)
    for _ in range(200):
        await backoff.wait()
    assert 0.5 <= min(slept) < 0.6 and 0.9 < max(slept) <= 1.0
