"""Form-encoded text: query strings, and form bodies parsed only when a handler reads them.

A form body stays bytes until ``request.body`` is first read (``PendingForm``). Its
fields are counted before any is decoded, so a body with too many is refused at once;
decoding is linear but slow in Python (about 0.1 s per MB of ``%XX`` escapes), so a
large form is decoded in a worker thread before the handler runs, never on the loop.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from motia.exceptions import RequestRefused

__all__ = ["INLINE_FORM_SIZE", "PendingForm", "parse_query"]

INLINE_FORM_SIZE = 64 * 1024
"""Forms up to this size are decoded when read, on the loop (a few ms at most)."""


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


class PendingForm:
    """A form body not decoded yet; ``value()`` decodes it once (or raises the refusal)."""

    __slots__ = ("_outcome", "max_fields", "raw")

    def __init__(self, raw: bytes, max_fields: int) -> None:
        self.raw = raw
        self.max_fields = max_fields
        self._outcome: dict[str, str | list[str]] | RequestRefused | None = None

    @property
    def large(self) -> bool:
        return len(self.raw) > INLINE_FORM_SIZE

    def decode(self) -> None:
        """Decode now (a worker thread may call this); ``value()`` gives the outcome."""
        if self._outcome is None:
            self._outcome = self._decoded()

    def value(self) -> dict[str, str | list[str]]:
        self.decode()
        outcome = self._outcome
        if isinstance(outcome, RequestRefused):
            raise outcome
        assert outcome is not None
        return outcome

    def _decoded(self) -> dict[str, str | list[str]] | RequestRefused:
        # Counting separators is C-speed; it refuses a million fields before decoding one.
        if self.raw.count(b"&") >= self.max_fields:
            error = {"error": "Too many form fields", "limit": self.max_fields}
            return RequestRefused(413, error, limit="max_form_fields")
        return parse_query(self.raw.decode("utf-8", errors="replace"))
