"""Reading a request body within a size limit, and parsing it by content type."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pydantic_core

from motia._core.asgi import Receive
from motia.exceptions import BodyTooLarge, ClientGone, MalformedBody

__all__ = [
    "has_body",
    "is_json",
    "media_type",
    "parse_body",
    "parse_query",
    "read_body",
]


async def read_body(receive: Receive, limit: int, declared: str | None) -> list[bytes]:
    """The body as received, refused once it passes ``limit`` (before reading it all)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks


def has_body(headers: dict[str, str], http_version: str) -> bool:
    """Whether a request may carry a body. HTTP/1.x says so with a length or a transfer
    coding (RFC 9112); HTTP/2 and 3 need not, so their bodies are always read."""
    if not http_version.startswith("1"):
        return True
    length = headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in headers


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def parse_body(content_type: str, raw: bytes) -> Any:
    """JSON and form bodies parsed; anything else is ``None`` (the raw bytes stay readable)."""
    media = media_type(content_type)
    if is_json(media) or (not media and raw):
        return _parse_json(raw, strict=media != "")
    if media == "application/x-www-form-urlencoded":
        return parse_query(raw.decode("utf-8", errors="replace"))
    return None


def _parse_json(raw: bytes, *, strict: bool) -> Any:
    if not raw.strip():
        return None
    try:
        return pydantic_core.from_json(raw)
    except ValueError as exc:
        if not strict:
            return None
        raise MalformedBody(f"request body is not valid JSON: {exc}") from None


def parse_query(query: str) -> dict[str, str | list[str]]:
    """``a=1&a=2&b=3`` -> ``{"a": ["1", "2"], "b": "3"}``."""
    params: dict[str, str | list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        existing = params.get(key)
        if existing is None:
            params[key] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            params[key] = [existing, value]
    return params
