"""What the Redis store adds to the contract suite: keys, selection, cron locks, readiness."""

from __future__ import annotations

import subprocess
import sys

import anyio
import httpx
import pytest
import redis.asyncio
from redis_support import DisposableRedisStore, private_redis, redis_url, require_redis

from motia import Motia
from motia.backends import MemoryStore, SQLiteStore
from motia.backends.cron_lock import tick_claim
from motia.backends.redis import RedisStore
from motia.backends.selection import build_store, store_name

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store():
    require_redis()
    async with DisposableRedisStore() as opened:
        yield opened


async def _keys(store: RedisStore) -> list[str]:
    return sorted([key async for key in store.client.scan_iter(match=store.prefix + "*")])


async def test_every_key_is_under_the_prefix_and_purge_removes_them(store) -> None:
    await store.set("stream:a:b", "c", "i", 1)
    await store.set("stream:a", "b:c", "i", 2)  # the same text once joined with ":"
    assert await store.get("stream:a:b", "c", "i") == 1
    assert await store.get("stream:a", "b:c", "i") == 2
    assert await store.list_groups("stream:a") == ["b:c"]
    keys = await _keys(store)
    assert keys and all(key.startswith(store.prefix) for key in keys)
    assert await store.purge() == len(keys)
    assert await _keys(store) == []


async def test_two_prefixes_share_nothing(store) -> None:
    async with DisposableRedisStore() as other:
        await store.set("state", "g", "k", 1)
        assert await other.get("state", "g", "k") is None
        assert await other.list_groups("state") == []


async def test_one_prefix_on_two_databases_shares_no_change() -> None:
    with private_redis() as server:
        first_url, second_url = server.url, server.url.rsplit("/", 1)[0] + "/1"
        async with (
            RedisStore(first_url, prefix="app:") as first,
            RedisStore(second_url, prefix="app:") as second,
        ):
            heard: list[object] = []
            second.feed.subscribe(heard.append)
            with anyio.fail_after(10):
                await first.set("state", "g", "k", 1)
                await second.set("state", "g", "other", 2)
            assert [getattr(m, "item_id", None) for m in heard] == ["other"]
            assert await second.get("state", "g", "k") is None


async def test_a_deleted_group_leaves_no_keys(store) -> None:
    await store.set("state", "g", "a", 1)
    await store.set("state", "g", "b", 1)
    await store.delete("state", "g", "a")
    await store.delete("state", "g", "b")
    assert await _keys(store) == [store.prefix + "epoch", store.prefix + "version"]


async def test_each_tick_is_claimed_once_across_stores(store) -> None:
    async with RedisStore(store.url, prefix=store.prefix) as other:
        claims = [tick_claim(s) for s in (store, other, store, other)]
        results = [await claim("job:* * * * * *:2030-01-01T00:00:00") for claim in claims]
        assert results == [True, False, False, False]
        assert await claims[1]("job:* * * * * *:2030-01-01T00:00:01")


async def test_local_stores_claim_every_tick() -> None:
    assert await tick_claim(MemoryStore())("any")


@pytest.mark.slow
async def test_an_unreachable_redis_skips_the_tick_instead_of_failing() -> None:
    with private_redis() as server:
        async with RedisStore(server.url, ping_interval=0.5) as store:
            server.stop()
            assert await store.claim_tick("job:tick") is False
            assert await store.ping() is False


def test_store_is_chosen_by_name_or_by_a_configured_url(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("MOTIA_REDIS_URL", raising=False)
    monkeypatch.delenv("MOTIA_REDIS_PREFIX", raising=False)
    assert store_name(None) == "sqlite"
    assert store_name(None, "redis://h:1/0") == "redis"
    assert isinstance(build_store("memory", tmp_path), MemoryStore)
    assert isinstance(build_store(None, tmp_path), SQLiteStore)
    monkeypatch.setenv("MOTIA_REDIS_URL", "redis://h:1/2")
    monkeypatch.setenv("MOTIA_REDIS_PREFIX", "app:")
    chosen = build_store(None, tmp_path)
    assert isinstance(chosen, RedisStore)
    assert (chosen.url, chosen.prefix) == ("redis://h:1/2", "app:")
    assert isinstance(build_store("sqlite", tmp_path), SQLiteStore)
    assert "secret" not in repr(RedisStore("redis://user:secret@h:1/0"))
    with pytest.raises(ValueError, match='"sqlite", "memory", "redis"'):
        store_name("mongo")


@pytest.mark.slow
def test_importing_motia_does_not_import_redis() -> None:
    code = "import sys, motia, motia.app, motia.cli; print('redis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.slow
async def test_health_and_readiness_follow_redis(live_server) -> None:
    with private_redis() as server:
        app = Motia(None, store="redis", redis_url=server.url, redis_prefix="ready:")
        store = app.runtime.store
        assert isinstance(store, RedisStore)
        store.ping_interval = 0.5
        async with live_server(app.asgi()) as url, httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/__motia/health")).json() == {"status": "ok"}
            assert (await client.get("/__motia/ready")).status_code == 200
            server.stop()
            await _wait_for_status(client, "/__motia/ready", 503)
            assert (await client.get("/__motia/health")).status_code == 200
            server.start()
            await _wait_for_status(client, "/__motia/ready", 200)


async def test_readiness_is_503_before_the_app_starts() -> None:
    require_redis()
    app = Motia(None, store="redis", redis_url=redis_url(), redis_prefix="never-started:")
    transport = httpx.ASGITransport(app=app.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        assert (await client.get("/__motia/ready")).status_code == 503
        assert (await client.get("/__motia/health")).status_code == 200


async def _wait_for_status(client: httpx.AsyncClient, path: str, status: int) -> None:
    with anyio.fail_after(15):
        while (await client.get(path)).status_code != status:
            await anyio.sleep(0.05)


async def test_store_survives_a_redis_client_kill_of_command_connections(store) -> None:
    await store.set("state", "g", "k", 1)
    admin = redis.asyncio.Redis.from_url(store.url, decode_responses=True)
    try:
        for client in await admin.client_list(_type="normal"):
            if client.get("name") == store.client_name:
                await admin.client_kill_filter(_id=client["id"])
    finally:
        await admin.aclose()
    with anyio.fail_after(5):
        while True:
            try:
                assert await store.get("state", "g", "k") == 1
                break
            except redis.ConnectionError:
                await anyio.sleep(0.05)
