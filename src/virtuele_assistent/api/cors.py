"""CORS per tenant: each municipality allow-lists the website origins that may embed its widget.

Starlette's CORSMiddleware holds one global list; here the list depends on the tenant in the path,
so this small ASGI middleware looks it up (cached briefly) and answers preflights itself.
"""

from __future__ import annotations

import re
import time

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from virtuele_assistent.services import Services
from virtuele_assistent.tenants.service import TenantNotFound, get_profile

_TENANT_PATH = re.compile(r"^/api/v1/tenants/([a-z0-9-]{1,63})/")
ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
ALLOW_HEADERS = "authorization, content-type, x-request-id"
EXPOSE_HEADERS = "retry-after, x-request-id"
CACHE_S = 30.0


class TenantCORSMiddleware:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def origins(self, slug: str) -> frozenset[str]:
        cached = self._cache.get(slug)
        if cached and time.monotonic() - cached[0] < CACHE_S:
            return cached[1]

        def load() -> frozenset[str]:
            try:
                profile = get_profile(self.services.db, slug)
            except TenantNotFound:
                return frozenset()
            return frozenset(o.rstrip("/") for o in profile.allowed_origins)

        try:
            allowed = await anyio.to_thread.run_sync(load)
        except Exception:  # database down: no CORS grant, the route itself reports the error
            return frozenset()
        self._cache[slug] = (time.monotonic(), allowed)
        return allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        match = _TENANT_PATH.match(scope.get("path", ""))
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if match is None or origin is None or "/staff/" in scope.get("path", ""):
            await self.app(scope, receive, send)
            return
        allowed = origin.rstrip("/") in await self.origins(match.group(1))
        # The widget's configuration is public: any page may read it, to learn whether it is allowed.
        allowed = allowed or (scope["method"] == "GET" and scope.get("path", "").endswith("/widget-config"))
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            status = 204 if allowed else 403
            response_headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
            if allowed:
                response_headers += [
                    (b"access-control-allow-origin", origin.encode()),
                    (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                    (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                    (b"access-control-max-age", b"600"),
                ]
            await send({"type": "http.response.start", "status": status, "headers": response_headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed:
                headers = list(message.get("headers", []))
                headers += [
                    (b"access-control-allow-origin", origin.encode()),
                    (b"access-control-expose-headers", EXPOSE_HEADERS.encode()),
                ]
                if not any(name.lower() == b"vary" for name, _ in headers):
                    headers.append((b"vary", b"Origin"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cors)
