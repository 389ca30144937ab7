"""Trace ids: taken from ``x-trace-id`` or a W3C ``traceparent``, else made anew."""

from __future__ import annotations

import random
import re

__all__ = ["new_trace_id", "trace_id_from"]

_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


def new_trace_id() -> str:
    # Trace ids need to be unique, not secret: the fast PRNG serves (W3C trace-context).
    return random.getrandbits(128).to_bytes(16).hex()


def trace_id_from(headers: dict[str, str]) -> str:
    given = headers.get("x-trace-id")
    if given and _SAFE_ID.fullmatch(given):
        return given
    parent = headers.get("traceparent")
    if parent:
        match = _TRACEPARENT.fullmatch(parent.strip().lower())
        if match and match.group(1) != "0" * 32:
            return match.group(1)
    return new_trace_id()
