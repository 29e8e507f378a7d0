"""Security headers on every HTTP answer of the gateway.

A plain ASGI wrapper rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs
every request through a task group and a memory stream, which cost the gateway about a millisecond
of CPU per chat turn; here the headers are added to the response's start message as it goes by.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, MutableMapping

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
}
# the pages load only their own scripts and styles; the API docs page needs FastAPI's CDN defaults
PAGE_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
DOCS_PATHS = ("/docs", "/redoc", "/openapi")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


def _added(path: str) -> list[tuple[bytes, bytes]]:
    headers = {**SECURITY_HEADERS}
    if not path.startswith(DOCS_PATHS):
        headers["Content-Security-Policy"] = PAGE_CSP
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


_PAGES, _DOCS = _added("/"), _added("/docs")
_CSP = b"content-security-policy"


class SecurityHeaders:
    """Sets SECURITY_HEADERS on every HTTP response, and PAGE_CSP where the response has no CSP of
    its own (the API docs pages keep FastAPI's). A header the app set itself is replaced, as
    `headers.update` did."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = _DOCS if scope.get("path", "").startswith(DOCS_PATHS) else _PAGES

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = list(message.get("headers") or [])
                has_csp = any(k.lower() == _CSP for k, _ in own)
                ours = [(k, v) for k, v in added if not (k == _CSP and has_csp)]  # a CSP of its own stays
                names = {k for k, _ in ours}
                message["headers"] = [(k, v) for k, v in own if k.lower() not in names] + ours
            await send(message)

        await self.app(scope, receive, send_with_headers)
