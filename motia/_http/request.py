"""An HTTP request: what a handler receives, and how it is read off the wire.

The body is read whole before the handler runs, refused once it passes the app's
limit (before reading it all), then parsed by content type and validated against
the step's ``body_schema``. A request the runtime cannot hand over is refused with a
JSON error (``RequestRefused``); one whose client left mid-body is dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar, cast
from urllib.parse import parse_qsl

import pydantic_core

from motia._core.asgi import Receive, Scope
from motia._http.response import MotiaHttpResponse
from motia._project.schema import Schema
from motia.exceptions import ClientGone, MalformedJSON, RequestRefused, SchemaValidationError

__all__ = [
    "ApiRequest",
    "MotiaHttpArgs",
    "MotiaHttpRequest",
    "RequestBody",
    "decode_headers",
    "has_body",
    "parse_query",
    "parse_request",
    "read_body",
]

B = TypeVar("B")


class RequestBody:
    """The raw request body, whatever its content type."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    @property
    def stream(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk

    async def read_all(self) -> bytes:
        return b"".join(self._chunks)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()


class MotiaHttpRequest(Generic[B]):
    __slots__ = ("body", "headers", "method", "path", "path_params", "query_params", "request_body")

    def __init__(
        self,
        method: str = "",
        path: str = "",
        path_params: dict[str, str] | None = None,
        query_params: dict[str, str | list[str]] | None = None,
        headers: dict[str, str] | None = None,
        body: B | None = None,
        request_body: RequestBody | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.path_params = {} if path_params is None else path_params
        self.query_params = {} if query_params is None else query_params
        self.headers = {} if headers is None else headers
        self.body = cast(B, body)
        self.request_body = RequestBody([]) if request_body is None else request_body


ApiRequest = MotiaHttpRequest


class MotiaHttpArgs(Generic[B]):
    """``args.request`` / ``args.response``, plus the older flat accessors."""

    __slots__ = ("request", "response")

    def __init__(self, request: MotiaHttpRequest[B], response: MotiaHttpResponse) -> None:
        self.request = request
        self.response = response

    @property
    def body(self) -> B:
        return self.request.body

    @property
    def path_params(self) -> dict[str, str]:
        return self.request.path_params

    @property
    def query_params(self) -> dict[str, str | list[str]]:
        return self.request.query_params

    @property
    def headers(self) -> dict[str, str]:
        return self.request.headers

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def request_body(self) -> RequestBody:
        return self.request.request_body

    def get(self, key: str, default: Any = None) -> Any:
        if key in ("request", "response"):
            return getattr(self, key)
        value = getattr(self, key, default) if key in _FLAT_KEYS else default
        return value


_FLAT_KEYS = frozenset({"body", "path_params", "query_params", "headers", "method", "request_body"})


# -- reading a request ----------------------------------------------------------------------


def parse_request(
    scope: Scope, headers: dict[str, str], chunks: list[bytes], schema: Schema | None
) -> MotiaHttpRequest[Any]:
    """The request a handler gets, its body parsed by content type and checked by ``schema``."""
    try:
        body = _parse(headers.get("content-type", ""), chunks, schema) if chunks or schema else None
    except MalformedJSON as exc:
        raise RequestRefused(400, {"error": f"request body is not valid JSON: {exc}"}) from None
    except SchemaValidationError as exc:
        error = {"error": "Request body validation failed", "errors": exc.as_list()}
        raise RequestRefused(400, error) from None
    query = scope["query_string"]
    return MotiaHttpRequest(
        scope["method"],
        scope["path"],
        _path_params(scope),
        parse_query(query.decode("latin-1")) if query else {},
        headers,
        body,
        RequestBody(chunks),
    )


def decode_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Names as given (ASGI servers lower-case them); repeated headers joined with ", "
    (cookies with "; ")."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
    if len(headers) == len(raw):
        return headers
    joined: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name, value = name_bytes.decode("latin-1"), value_bytes.decode("latin-1")
        if name in joined:
            value = joined[name] + ("; " if name == "cookie" else ", ") + value
        joined[name] = value
    return joined


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


def has_body(headers: dict[str, str], scope: Scope) -> bool:
    """Whether a request may carry a body. HTTP/1.x says so with a length or a transfer
    coding (RFC 9112); HTTP/2 and 3 need not, so their bodies are always read."""
    if not scope.get("http_version", "1.1").startswith("1"):
        return True
    length = headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in headers


async def read_body(receive: Receive, limit: int, headers: dict[str, str]) -> list[bytes]:
    """The body as received, refused once it passes ``limit`` (before reading it all)."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
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
                raise _too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks


def _too_large(limit: int) -> RequestRefused:
    return RequestRefused(413, {"error": "Request body too large", "limit": limit}, close=True)


def _parse(content_type: str, chunks: list[bytes], schema: Schema | None) -> Any:
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not raw:
        return None if schema is None else schema.validate(None)
    media = _media_type(content_type)
    if schema is not None and schema.model is not None and _is_json(media) and not raw.isspace():
        return schema.validate_json(raw)  # a model checks JSON bytes in one pass
    body = _parse_body(media, raw)
    return body if schema is None else schema.validate(body)


def _parse_body(media: str, raw: bytes) -> Any:
    """JSON and form bodies parsed; anything else is ``None`` (the raw bytes stay readable)."""
    if _is_json(media) or not media:
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
        raise MalformedJSON(str(exc)) from None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _path_params(scope: Scope) -> dict[str, str]:
    params = scope.get("path_params")
    return {k: str(v) for k, v in params.items()} if params else {}
