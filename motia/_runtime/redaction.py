"""Secrets kept out of log lines: tokens, credentials and cookies, whoever logs them.

``redact`` rewrites text that is about to be written: the ``authToken`` (and
``token``, ``access_token``) query parameters, the values of the
``authorization``, ``proxy-authorization``, ``cookie``, ``set-cookie`` and
``sec-websocket-protocol`` headers (as ``name: value`` lines, Python reprs or
JSON), and any ``Bearer`` credential. What it leaves is enough to read the
line: the name of what was hidden stays, its value becomes ``[redacted]``.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact", "redact_query"]

REDACTED = "[redacted]"

_QUERY = re.compile(r"(?i)([?&](?:authToken|access_token|token)=)[^&\s\"'\\#]*")
_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|set-cookie|cookie|sec-websocket-protocol)"
    r"(['\"]?\s*[:=,]\s*(?:(?-i:b)?['\"])?)[^'\"\r\n\\]*"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_HINTS = ("token", "authorization", "cookie", "protocol", "bearer")


def redact(text: str) -> str:
    """``text`` with every secret it carries replaced by ``[redacted]``."""
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):
        return text
    text = _QUERY.sub(rf"\1{REDACTED}", text)
    text = _HEADER.sub(rf"\1\2{REDACTED}", text)
    return _BEARER.sub(rf"\1{REDACTED}", text)


def redact_query(query: str) -> str:
    """A query string without token values (``a=1&authToken=[redacted]``)."""
    return _QUERY.sub(rf"\1{REDACTED}", "?" + query)[1:]
