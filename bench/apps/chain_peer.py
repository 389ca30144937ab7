"""The order chain as a Python team assembles it: FastAPI + arq + sse-starlette on Redis.

``POST /orders`` validates the order with pydantic and enqueues an arq job through one
shared pool; the worker (``bench.apps.chain_worker``, its own process) adds the quantity to
a Redis counter and publishes the order with its total. This process keeps one pub/sub
listener and hands each published order to every open ``GET /streams/orders/all``
(an ``EventSourceResponse`` fed by its own ``asyncio.Queue``).

Environment: ``BENCH_REDIS_DB`` (the Redis database, shared with the worker; 13 unless told).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from fastapi import FastAPI
from pydantic import BaseModel
from redis.asyncio import Redis
from sse_starlette import EventSourceResponse

from bench.apps import payloads as p
from bench.apps.probe import Probe

QUEUE = "chain:arq"
CHANNEL = "chain:orders"
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "13"))
SETTINGS = RedisSettings(host="127.0.0.1", port=6379, database=REDIS_DB)
SUBSCRIBERS: set[asyncio.Queue[str]] = set()


class Order(BaseModel):
    id: str
    item: str
    qty: int


class Shared:
    pool: ArqRedis


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    Shared.pool = await create_pool(SETTINGS, default_queue_name=QUEUE)
    listener = asyncio.create_task(_listen())
    try:
        yield
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await Shared.pool.aclose()


async def _listen() -> None:
    """One pub/sub connection for the process; every message goes to every subscriber."""
    redis = Redis(host=SETTINGS.host, port=SETTINGS.port, db=SETTINGS.database)
    async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
        await pubsub.subscribe(CHANNEL)
        async for message in pubsub.listen():
            data = message["data"].decode()
            for subscriber in SUBSCRIBERS:
                subscriber.put_nowait(data)


api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)


@api.post("/orders", status_code=202)
async def create_order(order: Order) -> dict[str, str]:
    await Shared.pool.enqueue_job("process_order", order.model_dump())
    return {"id": order.id}


@api.get("/streams/orders/all")
async def orders() -> EventSourceResponse:
    return EventSourceResponse(_changes(), ping=int(p.HEARTBEAT), sep="\n")


async def _changes() -> AsyncIterator[dict[str, Any]]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    SUBSCRIBERS.add(queue)
    try:
        yield {"event": "ready", "data": "1"}
        while True:
            yield {"event": "create", "data": await queue.get()}
    finally:
        SUBSCRIBERS.discard(queue)


app = Probe(api)
