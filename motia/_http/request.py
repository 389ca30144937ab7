"""An HTTP request: what a handler receives, and how it is read off the wire.

Headers are refused past ``Settings.max_headers`` and ``max_header_size`` (431). The
body is read whole before the handler runs, refused once it passes the app's limit
(before reading it all), when the app's bodies in progress would pass their shared
budget (503) or when the client stops sending (408); then parsed by content type and
validated against the step's ``body_schema``, which takes JSON only (415 otherwise).
A form body is decoded only when the handler reads ``request.body`` (``urlencoded``).
A request the runtime cannot hand over is refused with a JSON error
(``RequestRefused``); one whose client left mid-body is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from itertools import chain
from types import CoroutineType
from typing import Any, Generic, TypeVar

from motia._core.asgi import Receive, Scope
from motia._core.json import loads
from motia._http.read_deadlines import ReadDeadlines
from motia._http.response import MotiaHttpResponse
from motia._http.urlencoded import PendingForm, parse_query
from motia._project.schema import Schema
from motia._runtime.body_budget import BodyBudget
from motia._sending.sender import PendingSend
from motia.exceptions import ClientGone, MalformedJSON, RequestRefused, SchemaValidationError
from motia.settings import Settings

__all__ = [
    "ApiRequest",
    "MotiaHttpArgs",
    "MotiaHttpRequest",
    "RequestBody",
    "decode_headers",
    "has_body",
    "parse_request",
    "read_body",
]

B = TypeVar("B")


class RequestBody:
    """The raw request body, whatever its content type."""

    __slots__ = ("_chunks", "size")

    def __init__(self, chunks: list[bytes], size: int = 0) -> None:
        self._chunks = chunks
        self.size = size

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
    __slots__ = ("_body", "headers", "method", "path", "path_params", "query_params",
                 "request_body")  # fmt: skip

    def __init__(
        self,
        method: str = "",
        path: str = "",
        path_params: dict[str, str] | None = None,
        query_params: dict[str, str | list[str]] | None = None,
        headers: dict[str, str] | None = None,
        body: B | PendingForm | None = None,
        request_body: RequestBody | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.path_params = {} if path_params is None else path_params
        self.query_params = {} if query_params is None else query_params
        self.headers = {} if headers is None else headers
        self._body = body
        self.request_body = RequestBody([]) if request_body is None else request_body

    @property
    def body(self) -> B:
        body = self._body
        if isinstance(body, PendingForm):
            body = self._body = body.value()  # type: ignore[assignment]
        return body  # type: ignore[return-value]

    @body.setter
    def body(self, value: B) -> None:
        self._body = value

    @property
    def pending_form(self) -> PendingForm | None:
        """The form body, while nobody has read it yet."""
        body = self._body
        return body if isinstance(body, PendingForm) else None


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
    scope: Scope,
    headers: dict[str, str],
    body: RequestBody,
    schema: Schema | None,
    max_form_fields: int,
) -> MotiaHttpRequest[Any]:
    """The request a handler gets, its body parsed by content type and checked by ``schema``."""
    chunks = body._chunks
    try:
        parsed = (
            _parse(headers.get("content-type", ""), chunks, schema, max_form_fields)
            if chunks or schema
            else None
        )
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
        parsed,
        body,
    )


def decode_headers(raw: list[tuple[bytes, bytes]], settings: Settings) -> dict[str, str]:
    """Names as given (ASGI servers lower-case them); repeated headers joined with ", "
    (cookies with "; "). Refused (431) past ``max_headers`` or ``max_header_size``."""
    _check_header_limits(raw, settings)
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
    if len(headers) == len(raw):
        return headers
    repeated: dict[str, list[str]] = {}
    for name, value in raw:
        repeated.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
    return {
        name: ("; " if name == "cookie" else ", ").join(values) for name, values in repeated.items()
    }


def _check_header_limits(raw: list[tuple[bytes, bytes]], settings: Settings) -> None:
    if len(raw) > settings.max_headers:
        raise _headers_too_large("max_headers", settings.max_headers)
    if len(b"".join(chain.from_iterable(raw))) > settings.max_header_size:
        raise _headers_too_large("max_header_size", settings.max_header_size)


def _headers_too_large(setting: str, limit: int) -> RequestRefused:
    error = {"error": "Request header fields too large", "limit": limit}
    return RequestRefused(431, error, close=True, limit=setting)


def has_body(headers: dict[str, str], scope: Scope) -> bool:
    """Whether a request may carry a body. HTTP/1.x says so with a length or a transfer
    coding (RFC 9112); HTTP/2 and 3 need not, so their bodies are always read."""
    if not scope.get("http_version", "1.1").startswith("1"):
        return True
    length = headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in headers


async def read_body(
    receive: Receive,
    headers: dict[str, str],
    limit: int,
    budget: BodyBudget,
    deadlines: ReadDeadlines,
) -> RequestBody:
    """The body as received, refused once it passes ``limit`` (before reading it all) or
    the budget, or when the client sends nothing until a deadline. The caller gives the
    body's size back to ``budget`` when the request ends."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            message = await _next_message(receive, deadlines)
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                if not budget.take(len(chunk)):
                    size -= len(chunk)
                    raise _over_budget(budget.limit)
                chunks.append(chunk)
            if not message.get("more_body", False):
                return RequestBody(chunks, size)
    except BaseException:
        budget.give_back(size)
        raise


async def _next_message(receive: Receive, deadlines: ReadDeadlines) -> Any:
    """The next body message, refused (408) if none comes before the deadline."""
    receiving = receive()
    if type(receiving) is CoroutineType:
        try:
            waiting_on = receiving.send(None)
        except StopIteration as done:
            message = done.value  # the server had it (a body that came whole): no deadline
        else:
            message = await _within_deadline(PendingSend(receiving, waiting_on), deadlines)
    else:
        message = await _within_deadline(receiving, deadlines)
    if message["type"] != "http.request":
        raise ClientGone()
    return message


async def _within_deadline(receiving: Awaitable[Any], deadlines: ReadDeadlines) -> Any:
    task = asyncio.current_task()
    assert task is not None
    deadlines.begin(task)
    try:
        message = await receiving
    except asyncio.CancelledError:
        if not deadlines.end(task):
            raise  # cancelled for another reason
        task.uncancel()
        error = {"error": "Request body timed out", "limit": deadlines.timeout}
        raise RequestRefused(408, error, close=True, limit="body_timeout") from None
    deadlines.end(task)
    return message


def _too_large(limit: int) -> RequestRefused:
    error = {"error": "Request body too large", "limit": limit}
    return RequestRefused(413, error, close=True, limit="max_body_size")


def _over_budget(limit: int) -> RequestRefused:
    error = {"error": "Server busy: too many request bodies in progress", "limit": limit}
    return RequestRefused(503, error, close=True, limit="max_body_memory")


def _parse(
    content_type: str, chunks: list[bytes], schema: Schema | None, max_form_fields: int
) -> Any:
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not raw:
        return None if schema is None else schema.validate(None)
    media = _media_type(content_type)
    if schema is None:
        return _parse_body(media, raw, max_form_fields)
    if not _is_json(media):
        raise _unsupported(media)
    if schema.model is not None and not raw.isspace():
        return schema.validate_json(raw)  # a model checks JSON bytes in one pass
    return schema.validate(_parse_json(raw, strict=True))


def _parse_body(media: str, raw: bytes, max_form_fields: int) -> Any:
    """JSON parsed, forms left for the handler to read; anything else is ``None`` (the raw
    bytes stay readable). Without a content type, JSON is tried."""
    if _is_json(media) or not media:
        return _parse_json(raw, strict=media != "")
    if media == "application/x-www-form-urlencoded":
        return PendingForm(raw, max_form_fields)
    return None


def _unsupported(media: str) -> RequestRefused:
    given = media or "none"
    error = {"error": f"Unsupported content type {given}: this step takes application/json"}
    return RequestRefused(415, error)


def _parse_json(raw: bytes, *, strict: bool) -> Any:
    if not raw.strip():
        return None
    try:
        return loads(raw)
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
