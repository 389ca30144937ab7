"""POST /chat: streams a chat reply token by token.

With OPENAI_API_KEY set (and optionally OPENAI_BASE_URL and OPENAI_MODEL) the
reply comes from an OpenAI-compatible chat completion, streamed through;
without one, a local deterministic reply is streamed the same way.
"""

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx
from pydantic import BaseModel

from motia import FlowContext, MotiaHttpArgs, http


class ChatRequest(BaseModel):
    message: str
    conversationId: str | None = None


config = {
    "name": "Chat Example",
    "description": "Stream a chat reply token by token",
    "flows": ["streaming"],
    "triggers": [http("POST", "/chat", body_schema=ChatRequest)],
}


async def handler(args: MotiaHttpArgs[ChatRequest], ctx: FlowContext[Any]) -> None:
    request = args.request.body
    response = args.response
    await response.status(200)
    await response.headers({"content-type": "text/event-stream"})
    source = _openai_tokens if os.environ.get("OPENAI_API_KEY") else _local_tokens
    count = 0
    try:
        # aclosing: a client that leaves cancels the handler, and the upstream request with it
        async with aclosing(source(request.message)) as tokens:
            async for token in tokens:
                count += 1
                await response.send(event="token", data={"token": token})
    except httpx.HTTPError as exc:
        ctx.logger.error("upstream chat request failed", {"error": str(exc)})
        await response.send(event="error", data={"message": f"upstream error: {exc}"})
        response.close()
        return
    done = {"tokens": count, "conversationId": request.conversationId}
    await response.send(event="done", data=done)
    response.close()


async def _local_tokens(message: str) -> AsyncIterator[str]:
    reply = f"You said: {message}. This reply is streamed one token at a time."
    for word in reply.split(" "):
        await asyncio.sleep(0.02)
        yield word + " "


async def _openai_tokens(message: str) -> AsyncIterator[str]:
    base_url = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
    body = {
        "model": os.environ.get("OPENAI_MODEL", "gpt-4o-mini"),
        "stream": True,
        "messages": [{"role": "user", "content": message}],
    }
    headers = {"authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"}
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=60.0)) as client,
        client.stream("POST", f"{base_url}/chat/completions", json=body, headers=headers) as reply,
    ):
        reply.raise_for_status()
        async for line in reply.aiter_lines():
            token = _delta(line)
            if token:
                yield token


def _delta(line: str) -> str | None:
    if not line.startswith("data:"):
        return None
    payload = line.removeprefix("data:").strip()
    if payload == "[DONE]":
        return None
    choices = json.loads(payload).get("choices") or [{}]
    content: str | None = choices[0].get("delta", {}).get("content")
    return content
