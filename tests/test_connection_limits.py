"""Hostile clients on real loopback sockets: each is refused, and other clients are served.

The server is the one ``motia start`` runs (uvicorn with ``LimitedHttpProtocol``), in
the test's event loop: if an attack held the loop, the probe request would wait too.
Every attack is bounded in size and every wait has a deadline.
"""

import asyncio
import json
import resource
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from motia import Motia, Settings, http, step
from motia._http.server_protocol import SPARE_FILES, connection_cap
from motia.testing import RunningApp

pytestmark = pytest.mark.anyio


async def hello(args: Any) -> Any:
    return {"status": 200, "body": {"hello": "world"}}


async def read_form(args: Any) -> Any:
    return {"status": 200, "body": {"fields": len(args.request.body)}}


async def ignore(args: Any) -> Any:
    return {"status": 200, "body": {"ok": True}}


STEPS = [
    step({"name": "hello", "triggers": [http("GET", "/hello")]}, hello),
    step({"name": "form", "triggers": [http("POST", "/form")]}, read_form),
    step({"name": "ignore", "triggers": [http("POST", "/ignore")]}, ignore),
]


class Server:
    def __init__(self, motia: Motia, port: int) -> None:
        self.motia = motia
        self.port = port

    @property
    def limits_hit(self) -> dict[str, int]:
        """The limits refused requests or connections passed, and how often."""
        counts = self.motia.runtime.stats.values().items()
        return {name[4:]: n for name, n in counts if name.startswith("hit_") and n}

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def exchange(self, data: bytes, timeout: float = 10) -> bytes:
        """Send ``data`` on a new connection; everything the server answers before closing."""
        reader, writer = await self.connect()
        try:
            with anyio.fail_after(timeout):
                writer.write(data)
                await writer.drain()
                return await reader.read()
        finally:
            writer.close()

    async def probe(self, timeout: float = 5) -> bytes:
        """Another client's request, which must be answered while an attack runs."""
        request = b"GET /hello HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"
        return await self.exchange(request, timeout)

    async def attack_and_probe(self, attack: bytes, probe_timeout: float) -> tuple[bytes, int]:
        """The answer to ``attack``, once other clients' requests, sent one after another
        while it ran, were each answered within ``probe_timeout`` seconds; and their count."""
        answers: list[bytes] = []
        probes = 0
        async with anyio.create_task_group() as tasks:

            async def send_attack() -> None:
                answers.append(await self.exchange(attack, 30))

            tasks.start_soon(send_attack)
            while not answers:
                assert (await self.probe(probe_timeout)).startswith(b"HTTP/1.1 200")
                probes += 1
        return answers[0], probes


@asynccontextmanager
async def serve(*steps: Any, **settings: Any) -> AsyncIterator[Server]:
    motia = Motia(
        steps_dir=None, steps=[*STEPS, *steps], store="memory", settings=Settings(**settings)
    )
    async with RunningApp(motia) as running:
        server = await running.server()
        yield Server(motia, server.port)


def status_and_json(answer: bytes) -> tuple[int, Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


async def test_a_flood_of_repeated_headers_gets_431_and_others_are_served() -> None:
    head = b"POST /ignore HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n"
    flood = head + b"x-a: aaaaaaaaaaaaaaaa\r\n" * 100_000 + b"\r\n"  # 2.3 MB of headers
    async with serve() as server:
        answer, _ = await server.attack_and_probe(flood, probe_timeout=2)
        too_large = {"error": "Request header fields too large", "limit": 65536}
        assert status_and_json(answer) == (431, too_large)
        assert server.limits_hit == {"max_header_size": 1}


async def test_too_many_header_lines_get_431_before_the_app_sees_them() -> None:
    head = b"GET /hello HTTP/1.1\r\nhost: t\r\n" + b"x: 1\r\n" * 30 + b"\r\n"
    async with serve(max_headers=20) as server:
        status, error = status_and_json(await server.exchange(head))
        assert (status, error["limit"]) == (431, 20)
        assert server.limits_hit == {"max_headers": 1}
        assert (await server.probe()).startswith(b"HTTP/1.1 200")


def form(path: str, fields: int) -> bytes:
    body = b"&".join([b"a=v"] * fields)
    head = (
        f"POST {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n"
        f"content-type: application/x-www-form-urlencoded\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@pytest.mark.parametrize("path, answer", [("/form", 413), ("/ignore", 200)])
async def test_a_ten_megabyte_form_stalls_nobody(path: str, answer: int) -> None:
    async with serve() as server:
        # Decoding it on the loop held every other request for seconds.
        attack, probes = await server.attack_and_probe(form(path, 2_600_000), probe_timeout=2)
        assert status_and_json(attack)[0] == answer
        assert probes >= 1


async def test_slow_and_idle_connections_are_timed_out_and_others_are_served() -> None:
    async with serve(header_timeout=0.5) as server:
        slow = [await server.connect() for _ in range(100)]
        for _, writer in slow[:50]:
            writer.write(b"GET /hello HTTP/1.1\r\nhost: t\r\n")  # never finished
        assert (await server.probe()).startswith(b"HTTP/1.1 200")
        with anyio.fail_after(5):
            answers = [await reader.read() for reader, _ in slow]
        for _, writer in slow:
            writer.close()
        timed_out = (408, {"error": "Request head timed out", "limit": 0.5})
        assert [status_and_json(answer) for answer in answers] == [timed_out] * 100
        assert server.limits_hit == {"header_timeout": 100}


async def test_a_new_connection_past_the_cap_closes_the_longest_idle_one() -> None:
    async with serve(max_connections=5) as server:
        held = [await server.connect() for _ in range(5)]
        assert (await server.probe()).startswith(b"HTTP/1.1 200")
        with anyio.fail_after(5):
            status, error = status_and_json(await held[0][0].read())
        assert (status, error) == (503, {"error": "Too many connections", "limit": 5})
        for _, writer in held:
            writer.close()
        assert server.limits_hit == {"max_connections": 1}


async def test_a_connection_past_the_cap_gets_503_when_every_one_is_busy() -> None:
    release = anyio.Event()
    entered: list[None] = []

    async def wait(args: Any) -> Any:
        entered.append(None)
        await release.wait()
        return {"status": 200, "body": {}}

    busy = step({"name": "wait", "triggers": [http("GET", "/wait")]}, wait)
    async with serve(busy, max_connections=3) as server:
        held = [await server.connect() for _ in range(3)]
        for _, writer in held:
            writer.write(b"GET /wait HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        with anyio.fail_after(5):
            while len(entered) < 3:
                await anyio.sleep(0.01)
        status, error = status_and_json(await server.exchange(b""))
        assert (status, error) == (503, {"error": "Too many connections", "limit": 3})
        release.set()
        with anyio.fail_after(5):
            answers = [await reader.read() for reader, _ in held]
        assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
        for _, writer in held:
            writer.close()


async def test_large_bodies_in_progress_share_one_budget() -> None:
    size = 600_000
    head = (
        f"POST /ignore HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: {size}\r\n\r\n"
    )
    async with serve(max_body_memory=1_000_000, body_timeout=5) as server:
        clients = [await server.connect(), await server.connect()]
        for _, writer in clients:
            writer.write(head.encode() + b"x" * (size - 1))  # all but the last byte: held
        reads = {
            asyncio.ensure_future(reader.read()): (reader, writer) for reader, writer in clients
        }
        done, pending = await asyncio.wait(reads, timeout=4, return_when=asyncio.FIRST_COMPLETED)
        status, error = status_and_json(done.pop().result())
        assert (status, error["limit"]) == (503, 1_000_000)  # the one that passed the budget
        assert server.motia.runtime.body_budget.held == size - 1
        assert (await server.probe()).startswith(b"HTTP/1.1 200")
        holder = pending.pop()
        reads[holder][1].write(b"x")
        with anyio.fail_after(4):
            assert (await holder).startswith(b"HTTP/1.1 200")
        for _, writer in clients:
            writer.close()
        assert server.limits_hit == {"max_body_memory": 1}
        assert server.motia.runtime.body_budget.held == 0


async def test_a_body_that_stops_arriving_gets_408() -> None:
    head = b"POST /ignore HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n"
    async with serve(body_timeout=0.3) as server:
        status, error = status_and_json(await server.exchange(head + b"x" * 50))
        assert (status, error) == (408, {"error": "Request body timed out", "limit": 0.3})
        assert server.limits_hit == {"body_timeout": 1}
        assert server.motia.runtime.body_budget.held == 0


async def test_an_idle_kept_alive_connection_is_closed() -> None:
    async with serve(keep_alive_timeout=0.3) as server:
        reader, writer = await server.connect()
        writer.write(b"GET /hello HTTP/1.1\r\nhost: t\r\n\r\n")
        with anyio.fail_after(5):
            answer = await reader.read()  # the response, then the close
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200")


def test_the_connection_cap_stays_below_the_open_file_limit() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert connection_cap(5) == 5
    assert connection_cap(10**9) == (
        10**9 if soft == resource.RLIM_INFINITY else soft - SPARE_FILES
    )


async def test_a_client_still_sending_after_its_refusal_reads_the_answer() -> None:
    head = b"POST /ignore HTTP/1.1\r\nhost: t\r\ncontent-length: 50000000\r\n\r\n"
    async with serve(max_body_size=1000) as server:
        reader, writer = await server.connect()
        with anyio.fail_after(10):
            writer.write(head)
            for _ in range(20):  # 2 MB more, sent after the 413 (and discarded)
                writer.write(b"x" * 100_000)
                await writer.drain()
            answer = await reader.read()
        writer.close()
        assert status_and_json(answer) == (413, {"error": "Request body too large", "limit": 1000})
