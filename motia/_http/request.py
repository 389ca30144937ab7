"""What an HTTP handler receives: ``MotiaHttpArgs`` with ``request`` and ``response``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

from motia._http.response import MotiaHttpResponse

__all__ = ["ApiRequest", "MotiaHttpArgs", "MotiaHttpRequest", "RequestBody"]

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
        method: str,
        path: str,
        path_params: dict[str, str],
        query_params: dict[str, str | list[str]],
        headers: dict[str, str],
        body: B,
        request_body: RequestBody,
    ) -> None:
        self.method = method
        self.path = path
        self.path_params = path_params
        self.query_params = query_params
        self.headers = headers
        self.body = body
        self.request_body = request_body


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
