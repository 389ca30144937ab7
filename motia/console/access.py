"""Who may use the console: which ``Host`` it answers to, the operator's token, and the
session token every change carries.

- ``Host`` must name this machine's loopback (``localhost``, ``*.localhost``,
  ``127.0.0.1``, ``[::1]``) or one of ``Settings.console_hosts``. A page on another
  site that rebinds its own name to this server's address sends its own name as
  ``Host``, so it is refused (DNS rebinding).
- With ``Settings.console_token``, every request presents it: ``?token=`` once (the
  page then sets an HttpOnly cookie and drops it from the address), the cookie, or
  ``Authorization: Bearer``. ``motia dev``/``start`` refuse ``--console`` on a
  non-loopback address without one.
- Every request that changes something (anything but GET and HEAD) carries the
  session token of the running process in ``x-motia-session``; the page has it
  from its HTML and from the ``hello`` event of its log feed, which a page of
  another site cannot read.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from motia._core.asgi import Receive, Scope, Send
from motia._core.hosts import is_loopback

__all__ = [
    "SESSION_HEADER",
    "TOKEN_COOKIE",
    "ConsoleAccess",
    "Guarded",
    "host_name",
]

SESSION_HEADER = "x-motia-session"
TOKEN_COOKIE = "motia_console_token"
_READS = frozenset({"GET", "HEAD"})


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port (``[::1]:3000`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class ConsoleAccess:
    """The console's checks for one running app (its session token is new each start)."""

    def __init__(self, hosts: Iterable[str] = (), token: str | None = None) -> None:
        self.hosts = frozenset(host_name(host) for host in hosts)
        self.token = token or None
        self.session = secrets.token_urlsafe(24)

    def refusal(self, request: Request) -> Response | None:
        """The answer to a request the console must not serve, else None."""
        host = host_name(request.headers.get("host", ""))
        if not (is_loopback(host) or host in self.hosts):
            return _refused(
                403,
                f"the console does not answer to Host {host!r}: open it through localhost, "
                "or add the name with --console-host",
            )
        if self.token is not None and not self.presents_token(request):
            return _refused(401, "the console needs its token: open it with ?token=...")
        if request.method not in _READS and not _same(
            request.headers.get(SESSION_HEADER), self.session
        ):
            return _refused(403, "missing or stale session token: reload the console page")
        return None

    def presents_token(self, request: Request) -> bool:
        bearer = request.headers.get("authorization", "")
        offered = (
            request.query_params.get("token"),
            request.cookies.get(TOKEN_COOKIE),
            bearer[7:] if bearer[:7].lower() == "bearer " else None,
        )
        return any(_same(value, self.token) for value in offered)


class Guarded:
    """An ASGI app served only to requests ``access`` lets through."""

    def __init__(self, access: ConsoleAccess, app: ASGIApp) -> None:
        self.access = access
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.access.refusal(Request(scope))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _same(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _refused(status: int, reason: str) -> Response:
    return JSONResponse(
        {"error": reason}, status_code=status, headers={"cache-control": "no-store"}
    )
