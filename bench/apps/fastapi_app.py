"""FastAPI: the JSON routes as a FastAPI user writes them (validation by the signature)."""

from __future__ import annotations

from fastapi import FastAPI, Response

from bench.apps import payloads as p
from bench.apps.probe import Probe

TRACE = p.TRACE_HEADER[1].decode()
api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@api.get("/hello")
async def hello(response: Response) -> dict[str, str]:
    response.headers["x-trace-id"] = TRACE
    return p.HELLO


@api.post("/echo")
async def echo(item: p.Item, response: Response) -> p.Item:
    response.headers["x-trace-id"] = TRACE
    return item


app = Probe(api)
