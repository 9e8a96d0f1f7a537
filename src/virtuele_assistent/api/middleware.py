"""Request id and security headers on every response, a log line for every request (refused ones
too, with their status); caps on header and body size; no control characters.

Every HTTP request passes here before routing: a path or query with a control character (``%00``)
and a JSON body with one in any string, or nested deeper than the parser should follow, get a
Dutch 422 before any application code reads them.
"""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import unquote

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from virtuele_assistent.api.auth import IPNetwork, in_networks
from virtuele_assistent.api.errors import PROBLEM_JSON
from virtuele_assistent.api.security_headers import security_headers
from virtuele_assistent.validation import CONTROL_MESSAGE, UnsafeInput, has_control_characters, parse_json

log = structlog.get_logger("virtuele_assistent.api")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Pure ASGI (so it also covers WebSocket and streaming responses)."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        max_headers: int = 100,
        max_header_bytes: int = 16384,
        trusted_proxies: tuple[IPNetwork, ...] = (),
        large_bodies: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # (path regex, its own limit): e.g. the portal's file upload
        self.large_bodies = tuple((re.compile(pattern), limit) for pattern, limit in large_bodies)
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw_headers = scope.get("headers", [])
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        path = scope.get("path", "")
        tenant = re.match(r"^/api/v1/tenants/([a-z0-9-]+)", path)
        if tenant:
            structlog.contextvars.bind_contextvars(tenant=tenant.group(1))
        https = self._https(scope, headers)
        started = time.perf_counter()
        status_holder = {"status": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                response_headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in response_headers):
                    response_headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = security_headers(path, response_headers, https)
            await send(message)

        received = {"bytes": 0}

        async def receive_capped() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received["bytes"] += len(message.get("body", b""))
                if received["bytes"] > self.body_limit(path):
                    raise _BodyTooLarge
            return message

        try:
            refusal = self._refusal(scope, raw_headers, headers, path)
            if refusal is not None:
                if scope["type"] == "websocket":  # refused before the handshake: HTTP 403
                    status_holder["status"] = 403
                    await send({"type": "websocket.close", "code": 1008})
                else:
                    await send_problem(send_with_id, request_id, *refusal)
                return
            app_receive = receive_capped if scope["type"] == "http" else receive
            if scope["type"] == "http" and _is_json(headers.get("content-type", "")):
                body = await _read_body(receive_capped)
                unsafe = _unsafe_json(body)
                if unsafe:
                    await send_problem(send_with_id, request_id, 422, "Ongeldige invoer", unsafe)
                    return
                app_receive = _replay(body, receive)
            await self.app(scope, app_receive, send_with_id)
        except _BodyTooLarge:
            await send_problem(send_with_id, request_id, *_too_large(self.body_limit(path)))
        finally:
            if scope["type"] == "http" or status_holder["status"]:  # a refused socket too
                log.info(
                    "request",
                    method=scope.get("method", "WEBSOCKET"),
                    path=path,
                    status=status_holder["status"],
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )

    def body_limit(self, path: str) -> int:
        return next(
            (limit for pattern, limit in self.large_bodies if pattern.match(path)), self.max_body_bytes
        )

    def _refusal(
        self, scope: Scope, raw_headers: list[tuple[bytes, bytes]], headers: dict[str, str], path: str
    ) -> tuple[int, str, str] | None:
        """(status, title, detail) of a request refused before any application code sees it."""
        size = sum(len(name) + len(value) for name, value in raw_headers)
        if len(raw_headers) > self.max_headers or size > self.max_header_bytes:
            return (
                431,
                "Headers te groot",
                f"De headers van het verzoek zijn te groot (hooguit {self.max_headers} headers en "
                f"{self.max_header_bytes // 1024} kB samen).",
            )
        if scope["type"] != "http":
            return None
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.body_limit(path):
            return _too_large(self.body_limit(path))
        query = unquote(scope.get("query_string", b"").decode("latin-1"))
        if has_control_characters(path) or has_control_characters(query):
            return 422, "Ongeldige invoer", CONTROL_MESSAGE
        return None

    def _https(self, scope: Scope, headers: dict[str, str]) -> bool:
        """Whether the client reached us over TLS: directly, or through a trusted proxy that says so."""
        if scope.get("scheme") in ("https", "wss"):
            return True
        peer = (scope.get("client") or ("", 0))[0]
        forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return forwarded == "https" and in_networks(peer, self.trusted_proxies)


class _BodyTooLarge(Exception):
    pass


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # afterwards: the disconnect, when it comes

    return replayed


def _unsafe_json(body: bytes) -> str | None:
    """A Dutch reason to refuse the JSON body unread, or None (invalid JSON is the router's to report)."""
    if not body:
        return None
    try:
        parse_json(body)
    except UnsafeInput as unsafe:
        return str(unsafe)
    except ValueError:
        return None
    return None


def _too_large(limit: int) -> tuple[int, str, str]:
    return 413, "Verzoek te groot", f"Het verzoek is te groot (maximaal {limit // 1024} kB)."


async def send_problem(send: Send, request_id: str, status: int, title: str, detail: str) -> None:
    import json

    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, "request_id": request_id}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"x-request-id", request_id.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
