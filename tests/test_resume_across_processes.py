"""An SSE client that resumes with ``Last-Event-ID`` on another process gets exactly
the events it missed: two ``motia start`` processes on one Redis, a writer in a third
publishing changes and ephemeral events, paced and in bursts, while the client reads
from one process, drops its connection and resumes on the other."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from redis_support import DisposableRedisStore, Servers, redis_url, require_redis, unique_prefix

from motia.backends.base import Ephemeral
from motia.sse import ServerSentEvent, SSEParser

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

STREAM = "config = {'name': 'feed'}\n"
NAMESPACE = "stream:feed"
TRIALS = 6
EVENTS = 60
READ_BEFORE_DROP = 20


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    require_redis()
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "feed.stream.py").write_text(textwrap.dedent(STREAM))
    started = Servers(tmp_path, unique_prefix())
    try:
        yield started
    finally:
        started.kill_all()


class Reader:
    """One SSE subscription read event by event, with a deadline on every read."""

    def __init__(self, response: httpx.Response) -> None:
        self.chunks = response.aiter_bytes()
        self.parser = SSEParser()
        self.ready: list[ServerSentEvent] = []

    async def next(self) -> ServerSentEvent:
        with anyio.fail_after(10):
            while not self.ready:
                self.ready.extend(self.parser.feed(await self.chunks.__anext__()))
        return self.ready.pop(0)


def number(event: ServerSentEvent) -> int:
    """The publish number an event carries (a change's value or an ephemeral's data)."""
    body: dict[str, Any] = event.json()["event"]
    data = body["event"]["data"] if body["type"] == "event" else body["data"]
    return int(data["n"])


async def publish(store: DisposableRedisStore, group: str, paced: bool) -> None:
    for n in range(EVENTS):
        if n % 2:
            await store.publish(Ephemeral(NAMESPACE, group, None, "tick", {"n": n}))
        else:
            await store.set(NAMESPACE, group, f"k{n}", {"n": n})
        await anyio.sleep(0.004 if paced else 0)


async def trial(
    client: httpx.AsyncClient, first: str, second: str, store: DisposableRedisStore, group: str
) -> tuple[list[int], int]:
    """Numbers seen across both connections, and how many resets the resume got."""
    seen: list[int] = []
    path = f"/streams/feed/{group}"
    async with client.stream("GET", first + path) as response:
        reader = Reader(response)
        assert (await reader.next()).event == "sync"
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(publish, store, group, group.startswith("paced"))
            while len(seen) < READ_BEFORE_DROP:
                event = await reader.next()
                seen.append(number(event))
                last_id = event.id
            # Dropped mid-stream while the writer goes on; resumed on the other process.
            await response.aclose()
            resets = 0
            headers = {"Last-Event-ID": str(last_id)}
            async with client.stream("GET", second + path, headers=headers) as resumed:
                reader = Reader(resumed)
                while not seen or seen[-1] != EVENTS - 1:
                    event = await reader.next()
                    if event.event == "reset":
                        resets += 1
                        await reader.next()  # the fresh sync: state, not events
                        seen.append(-1)
                        continue
                    seen.append(number(event))
    return seen, resets


@pytest.mark.timeout(120)
@pytest.mark.parametrize("pace", ["paced", "burst"])
async def test_a_resume_on_another_process_gets_exactly_the_missed_events(
    servers: Servers, pace: str
) -> None:
    ports = [servers.start("--redis-url", redis_url()) for _ in range(2)]
    for port in ports:
        servers.wait_ready(port)
    first, second = (f"http://127.0.0.1:{port}" for port in ports)
    prefix = servers.env["MOTIA_REDIS_PREFIX"]
    async with (
        DisposableRedisStore(prefix=prefix) as store,
        httpx.AsyncClient(timeout=10) as client,
    ):
        for index in range(TRIALS):
            group = f"{pace}-{index}"
            # Another client keeps the group watched on the second process.
            async with client.stream("GET", f"{second}/streams/feed/{group}") as watcher:
                assert (await Reader(watcher).next()).event == "sync"
                seen, resets = await trial(client, first, second, store, group)
            assert resets == 0, f"trial {index}: {seen}"
            assert seen == list(range(EVENTS)), f"trial {index}: duplicates or gaps in {seen}"


@pytest.mark.timeout(60)
async def test_a_resume_where_the_group_was_not_watched_gets_a_reset_and_sync(
    servers: Servers,
) -> None:
    ports = [servers.start("--redis-url", redis_url()) for _ in range(2)]
    for port in ports:
        servers.wait_ready(port)
    first, second = (f"http://127.0.0.1:{port}" for port in ports)
    prefix = servers.env["MOTIA_REDIS_PREFIX"]
    async with (
        DisposableRedisStore(prefix=prefix) as store,
        httpx.AsyncClient(timeout=10) as client,
    ):
        async with client.stream("GET", f"{first}/streams/feed/g") as response:
            reader = Reader(response)
            await reader.next()
            await store.set(NAMESPACE, "g", "a", {"n": 0})
            last = await reader.next()
        await store.set(NAMESPACE, "g", "b", {"n": 1})
        headers = {"Last-Event-ID": str(last.id)}
        async with client.stream("GET", f"{second}/streams/feed/g", headers=headers) as response:
            reader = Reader(response)
            reset, sync = await reader.next(), await reader.next()
    assert reset.event == "reset"
    assert sync.event == "sync" and sync.json()["event"]["data"] == [{"n": 0}, {"n": 1}]
