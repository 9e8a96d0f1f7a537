"""Request id on every response and log line; a cap on request body size; no control characters.

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

from virtuele_assistent.api.errors import PROBLEM_JSON
from virtuele_assistent.validation import CONTROL_MESSAGE, UnsafeInput, has_control_characters, parse_json

log = structlog.get_logger("virtuele_assistent.api")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Pure ASGI (so it also covers WebSocket and streaming responses)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        path = scope.get("path", "")
        tenant = re.match(r"^/api/v1/tenants/([a-z0-9-]+)", path)
        if tenant:
            structlog.contextvars.bind_contextvars(tenant=tenant.group(1))

        if scope["type"] == "http":
            declared = headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
                await _too_large(send, request_id, self.max_body_bytes)
                return
            query = unquote(scope.get("query_string", b"").decode("latin-1"))
            if has_control_characters(path) or has_control_characters(query):
                await send_problem(send, request_id, 422, "Ongeldige invoer", CONTROL_MESSAGE)
                return

        started = time.perf_counter()
        status_holder = {"status": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                if not any(name.lower() == b"x-request-id" for name, _ in message["headers"]):
                    message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        received = {"bytes": 0}

        async def receive_capped() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received["bytes"] += len(message.get("body", b""))
                if received["bytes"] > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        try:
            app_receive = receive_capped if scope["type"] == "http" else receive
            if scope["type"] == "http" and _is_json(headers.get("content-type", "")):
                body = await _read_body(receive_capped)
                refusal = _refusal(body)
                if refusal:
                    await send_problem(send, request_id, 422, "Ongeldige invoer", refusal)
                    return
                app_receive = _replay(body, receive)
            await self.app(scope, app_receive, send_with_id)
        except _BodyTooLarge:
            await _too_large(send, request_id, self.max_body_bytes)
        finally:
            if scope["type"] == "http":
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=path,
                    status=status_holder["status"],
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )


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


def _refusal(body: bytes) -> str | None:
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


async def _too_large(send: Send, request_id: str, limit: int) -> None:
    await send_problem(
        send, request_id, 413, "Verzoek te groot", f"Het verzoek is te groot (maximaal {limit // 1024} kB)."
    )


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
