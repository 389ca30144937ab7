"""Who may use the console: loopback Host names, the operator's token, the session token on
every change, and protected streams kept from whoever the app would not let read them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from motia import Motia, StreamConfig, http, step
from motia.cli import main
from motia.console import PREFIX
from motia.exceptions import ServeError
from motia.server import ServeOptions, check_console
from motia.settings import Settings
from motia.sse import SSEParser

pytestmark = pytest.mark.anyio


async def hello(request: Any, ctx: Any) -> dict[str, Any]:
    return {"status": 200, "body": {}}


def on_join(subscription: Any, ctx: Any, auth: Any) -> dict[str, bool]:
    return {"unauthorized": auth != "member"}


STEPS = [step({"name": "Hello", "triggers": [http("GET", "/hello")]}, hello)]
STREAMS = [StreamConfig(name="open"), StreamConfig(name="private", on_join=on_join)]
READS = ["", "/", "/api/flows", "/api/state", "/api/streams", "/api/logs", "/static/core.js"]


@asynccontextmanager
async def console(host: str = "localhost:3000", **options: Any) -> AsyncIterator[Any]:
    settings = Settings(**{"console": True, **options.pop("settings", {})})
    motia = Motia(None, steps=STEPS, streams=STREAMS, store="memory", settings=settings, **options)
    app = motia.asgi()
    transport = httpx.ASGITransport(app)
    with anyio.fail_after(10):
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client,
        ):
            client.motia = motia  # type: ignore[attr-defined]
            yield client


def session_of(page: httpx.Response) -> str:
    found = re.search(r'data-session="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


# -- DNS rebinding: only loopback Host names (and configured ones) -------------------------


async def test_a_rebound_host_is_refused_on_every_route() -> None:
    async with console("evil.example:3000") as client:
        origin = {"origin": "http://evil.example:3000"}
        for path in READS:
            response = await client.get(PREFIX + path, headers=origin)
            assert response.status_code == 403, path
            assert "--console-host" in response.json()["error"]
        replay = await client.post(
            f"{PREFIX}/api/queues/replay", json={"all": True}, headers=origin
        )
        assert replay.status_code == 403
        async with client.stream("GET", f"{PREFIX}/api/logs/stream", headers=origin) as feed:
            assert feed.status_code == 403
    assert client.motia.registry.steps  # the app itself still serves  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "host", ["localhost:3000", "127.0.0.1:3000", "[::1]:3000", "app.localhost"]
)
async def test_loopback_names_are_served(host: str) -> None:
    async with console(host) as client:
        for path in READS:
            assert (await client.get(PREFIX + path)).status_code == 200, (host, path)


async def test_a_configured_host_is_served() -> None:
    async with console("box.internal:3000", settings={"console_hosts": ("box.internal",)}) as c:
        assert (await c.get(PREFIX + "/api/flows")).status_code == 200
    async with console("other.internal:3000", settings={"console_hosts": ("box.internal",)}) as c:
        assert (await c.get(PREFIX + "/api/flows")).status_code == 403


# -- the session token on every change ------------------------------------------------------


async def test_a_change_needs_the_session_token_of_the_page() -> None:
    url = f"{PREFIX}/api/queues/replay"
    async with console() as client:
        session = session_of(await client.get(PREFIX + "/"))
        assert (await client.post(url, json={"all": True})).status_code == 403
        wrong = await client.post(url, json={"all": True}, headers={"x-motia-session": "guess"})
        assert wrong.status_code == 403
        right = await client.post(url, json={"ids": ["x"]}, headers={"x-motia-session": session})
        assert right.json() == {"replayed": []}


async def test_the_log_feed_says_hello_with_the_session_first(live_server: Any) -> None:
    settings = Settings(console=True)
    motia = Motia(None, steps=STEPS, store="memory", settings=settings)
    async with live_server(motia.asgi()) as url, httpx.AsyncClient(timeout=5) as client:
        url = url.replace("127.0.0.1", "localhost")
        session = session_of(await client.get(f"{url}{PREFIX}/"))
        async with client.stream("GET", f"{url}{PREFIX}/api/logs/stream") as feed:
            parser, events = SSEParser(), []
            with anyio.fail_after(5):
                async for chunk in feed.aiter_bytes():
                    events.extend(parser.feed(chunk))
                    if any(e.event == "ready" for e in events):
                        break
    assert events[0].event == "hello"
    assert events[0].json() == {"session": session}


async def test_two_runs_have_two_sessions() -> None:
    async with console() as first, console() as second:
        one = session_of(await first.get(PREFIX + "/"))
        two = session_of(await second.get(PREFIX + "/"))
    assert one != two and len(one) >= 32


# -- the operator's token -------------------------------------------------------------------


async def test_with_a_token_every_request_presents_it() -> None:
    async with console(settings={"console_token": "s3cret-token"}) as client:
        for path in READS:
            assert (await client.get(PREFIX + path)).status_code == 401, path
        entered = await client.get(PREFIX + "/?token=s3cret-token")
        assert entered.status_code == 303 and entered.headers["location"] == PREFIX + "/"
        cookie = entered.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        for path in READS:  # the client now sends the cookie
            assert (await client.get(PREFIX + path)).status_code == 200, path
        client.cookies.clear()
        bearer = {"authorization": "Bearer s3cret-token"}
        assert (await client.get(PREFIX + "/api/state", headers=bearer)).status_code == 200
        wrong = {"authorization": "Bearer nope"}
        assert (await client.get(PREFIX + "/api/state", headers=wrong)).status_code == 401


def test_a_non_loopback_bind_needs_a_token() -> None:
    exposed = ServeOptions(host="0.0.0.0", settings={"console": True})
    with pytest.raises(ServeError, match="--console-token"):
        check_console(exposed)
    check_console(ServeOptions(host="0.0.0.0", settings={"console": True, "console_token": "t"}))
    check_console(ServeOptions(host="127.0.0.1", settings={"console": True}))
    check_console(ServeOptions(host="::1", settings={"console": True}))
    check_console(ServeOptions(host="0.0.0.0", settings={"console": False}))


def test_motia_start_refuses_and_says_how(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("MOTIA_CONSOLE_TOKEN", raising=False)
    (tmp_path / "steps").mkdir()
    args = ["--host", "0.0.0.0", "--project", str(tmp_path)]
    assert main(["start", "--console", *args]) == 1
    assert main(["dev", *args]) == 1
    message = capsys.readouterr().err
    assert "--console-token" in message and "--no-console" in message


def test_the_token_and_hosts_reach_the_settings(monkeypatch: Any) -> None:
    from motia.cli import _options, _parser

    monkeypatch.setenv("MOTIA_CONSOLE_TOKEN", "from-env")
    args = _parser().parse_args(
        ["start", "--console", "--console-host", "a", "--console-host", "b"]
    )
    settings = Settings(**_options(args, dev=False).settings)
    assert settings.console_hosts == ("a", "b") and settings.console_token == "from-env"


# -- protected streams ----------------------------------------------------------------------


async def fill(client: Any) -> None:
    streams = client.motia.runtime.streams
    await streams.open.set("lobby", "a", {"text": "hi"})
    await streams.private.set("alice", "m1", {"text": "secret"})


async def test_protected_streams_are_withheld_without_dev_mode_or_a_token() -> None:
    async with console() as client:
        frames: list[bytes] = []
        client.motia.console.changes.publish = frames.append
        await fill(client)
        streams = {s["name"]: s for s in (await client.get(PREFIX + "/api/streams")).json()}
        subscribers = (await client.get(PREFIX + "/api/subscribers")).json()
    assert streams["private"] == {"name": "private", "protected": True, "groups": [],
                                  "subscribers": 0}  # fmt: skip
    assert [g["group"] for g in streams["open"]["groups"]] == ["lobby"]
    assert not any(key.startswith("private/") for key in subscribers)
    assert any(b"lobby" in frame for frame in frames)
    assert not any(b"alice" in frame or b"secret" in frame for frame in frames)


@pytest.mark.parametrize("settings", [{"dev": True}, {"console_token": "tok"}])
async def test_dev_mode_or_the_operators_token_reveals_them(settings: dict[str, Any]) -> None:
    async with console(settings=settings) as client:
        await fill(client)
        headers = {"authorization": "Bearer tok"}
        streams = {
            s["name"]: s
            for s in (await client.get(PREFIX + "/api/streams", headers=headers)).json()
        }
    assert [g["group"] for g in streams["private"]["groups"]] == ["alice"]


async def test_under_stream_auth_every_stream_is_protected() -> None:
    async with console(stream_auth=lambda request: "member") as client:
        await fill(client)
        streams = (await client.get(PREFIX + "/api/streams")).json()
    assert all(s["protected"] for s in streams)
