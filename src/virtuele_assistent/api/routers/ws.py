"""WebSocket chat for residents, and the live handover queue for staff (docs/chat-protocol.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from virtuele_assistent.api.auth import TOKEN_MESSAGES, client_ip, origin_allowed, staff_from_token
from virtuele_assistent.auth.permissions import Permission, allows
from virtuele_assistent.auth.tokens import TokenError
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.conversations import feedback as feedback_store
from virtuele_assistent.conversations import handover
from virtuele_assistent.conversations.fanout import PRESENCE_TTL_S, conversation_channel, staff_channel
from virtuele_assistent.conversations.protocol import (
    CLIENT_TYPES,
    CLOSE_ABUSE,
    CLOSE_UNAUTHORIZED,
    CLOSE_WRONG_TENANT,
    STAFF_TYPES,
    client_message,
    error,
    staff_message,
)
from virtuele_assistent.conversations.service import ConversationNotFound, disclosure_text
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import SLUG_PATTERN, TenantProfile
from virtuele_assistent.tenants.service import TenantNotFound, get_profile, list_tenants
from virtuele_assistent.validation import UnsafeInput, parse_json, plain_text

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["chat"])
log = structlog.get_logger(__name__)

# Per connection: more than this many frames in FLOOD_WINDOW_S is a flood (error frames first,
# then the connection is closed with 1008).
FLOOD_FRAMES = 20
FLOOD_WINDOW_S = 2.0
MAX_STRIKES = 10


class Connection:
    """Serialised sends and flood accounting for one WebSocket."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.send_lock = asyncio.Lock()
        self.frames: list[float] = []
        self.strikes = 0

    async def send(self, message: dict[str, Any]) -> bool:
        if self.websocket.application_state != WebSocketState.CONNECTED:
            return False
        async with self.send_lock:
            try:
                await self.websocket.send_text(json.dumps(message, ensure_ascii=False))
                return True
            except (WebSocketDisconnect, RuntimeError, OSError):
                return False

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason[:120])

    def flooding(self) -> bool:
        now = time.monotonic()
        self.frames = [t for t in self.frames if now - t < FLOOD_WINDOW_S]
        self.frames.append(now)
        return len(self.frames) > FLOOD_FRAMES

    async def strike(self, frame: dict[str, Any]) -> bool:
        """Send an error frame; False (and closed) when the client keeps misbehaving."""
        self.strikes += 1
        if self.strikes > MAX_STRIKES:
            await self.close(CLOSE_ABUSE, "Te veel ongeldige berichten.")
            return False
        await self.send(frame)
        return True

    async def receive(self, max_bytes: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(the next JSON object, None) or (None, an error frame); raises WebSocketDisconnect."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("bytes") is not None:
            return None, error(
                "invalid_message", "Stuur berichten als tekst (JSON), niet als binaire gegevens."
            )
        text = message.get("text") or ""
        if len(text.encode("utf-8", "replace")) > max_bytes:
            return None, error("too_large", f"Dit bericht is te groot (maximaal {max_bytes // 1024} kB).")
        try:
            data = parse_json(text)
        except UnsafeInput as unsafe:
            return None, error("invalid_message", str(unsafe))
        except ValueError:
            return None, error("invalid_message", "Dit bericht is geen geldige JSON.")
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            return None, error("invalid_message", "Een bericht is een JSON-object met een 'type'.")
        return data, None


async def _tenant(services: Services, slug: str) -> TenantProfile | None:
    import re

    if not re.match(SLUG_PATTERN, slug):
        return None
    try:
        return await services.chat.run(get_profile, services.db, slug)
    except TenantNotFound:
        return None


PROTOCOL = "va.v1"
TOKEN_PROTOCOL = "va.token."


def socket_token(websocket: WebSocket) -> str:
    """The socket's token: from the handshake's Sec-WebSocket-Protocol (``va.v1, va.token.<token>``),
    so that it is in no URL and no access log. The query form (``?token=``) still works for one
    release, with a warning in the log; then it is refused."""
    for offered in websocket.scope.get("subprotocols", []):
        if offered.startswith(TOKEN_PROTOCOL):
            return str(offered.removeprefix(TOKEN_PROTOCOL))
    token = websocket.query_params.get("token", "")
    if token:
        log.warning("ws.token_in_query", detail="deprecated: send the token as subprotocol va.token.<token>")
    return token


async def _accept(websocket: WebSocket) -> None:
    """Accept, choosing ``va.v1`` when the client offered it (a browser that offered protocols
    fails a handshake that chooses none)."""
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)


async def _reject(websocket: WebSocket, code: int, frame: dict[str, Any]) -> None:
    await _accept(websocket)
    with contextlib.suppress(Exception):
        await websocket.send_text(json.dumps(frame, ensure_ascii=False))
        await websocket.close(code=code, reason=frame["message"][:120])


@router.websocket("/ws")
async def resident_ws(websocket: WebSocket, slug: str) -> None:
    services: Services = websocket.app.state.services
    settings = services.settings
    tenant = await _tenant(services, slug)
    if tenant is None:
        await _reject(
            websocket, CLOSE_WRONG_TENANT, error("unauthorized", f"Gemeente '{slug}' bestaat niet.")
        )
        return
    if not origin_allowed(tenant, websocket.headers.get("origin")):
        await _reject(
            websocket,
            CLOSE_WRONG_TENANT,
            error("unauthorized", f"Deze website mag de assistent van {tenant.name} niet gebruiken."),
        )
        return
    try:
        claims = services.tokens.verify_session(socket_token(websocket), tenant.slug)
    except TokenError as failure:
        code = CLOSE_WRONG_TENANT if failure.reason == "wrong_audience" else CLOSE_UNAUTHORIZED
        await _reject(websocket, code, error("unauthorized", TOKEN_MESSAGES[failure.reason]))
        return
    await _accept(websocket)
    connection = Connection(websocket)
    conversation_id = claims.conversation_id
    ip = client_ip(websocket, services)
    structlog.contextvars.bind_contextvars(conversation_id=conversation_id)
    turn_task: asyncio.Task[None] | None = None

    async with services.broker.subscribe(conversation_channel(conversation_id)) as subscription:

        async def forward() -> None:
            while True:
                await connection.send(await subscription.get())

        forwarder = asyncio.create_task(forward())
        try:
            while True:
                data, problem = await connection.receive(settings.ws_max_message_bytes)
                if connection.flooding():
                    if not await connection.strike(
                        error("rate_limited", "U stuurt te veel berichten tegelijk.", retry_after=2)
                    ):
                        return
                    continue
                if data is None:
                    if not await connection.strike(problem or error("invalid_message", "Ongeldig bericht.")):
                        return
                    continue
                kind = data["type"]
                if kind not in CLIENT_TYPES:
                    if not await connection.strike(
                        error(
                            "unknown_type",
                            f"Onbekend berichttype; bekend zijn: {', '.join(sorted(CLIENT_TYPES))}.",
                        )
                    ):
                        return
                    continue
                try:
                    message = client_message.validate_python(data)
                except ValidationError as invalid:
                    first = invalid.errors()[0]
                    field = ".".join(str(p) for p in first["loc"][1:]) or "bericht"
                    if kind == "question" and first["type"] == "string_too_long":
                        frame = error("too_large", _too_long(settings.max_question_chars))
                    else:
                        frame = error("invalid_message", f"Het veld '{field}' is ongeldig of ontbreekt.")
                    if not await connection.strike(frame):
                        return
                    continue
                connection.strikes = 0
                if kind == "ping":
                    await connection.send({"type": "pong"})
                elif kind == "hello":
                    if message.conversation_id and message.conversation_id != conversation_id:  # type: ignore[union-attr]
                        await connection.send(
                            error(
                                "unauthorized",
                                "Dit gesprek hoort niet bij uw sessie. Vraag een nieuwe sessie aan.",
                            )
                        )
                    state = await services.chat.run(services.chat.conversation_state, tenant, conversation_id)
                    await connection.send({"type": "ready", **state, "disclosure": disclosure_text(tenant)})
                elif kind == "question":
                    text = message.text.strip()  # type: ignore[union-attr]
                    if not text:
                        await connection.send(error("invalid_message", "Stel een vraag: de tekst is leeg."))
                        continue
                    if len(text) > settings.max_question_chars:
                        await connection.send(error("too_large", _too_long(settings.max_question_chars)))
                        continue
                    if turn_task is not None and not turn_task.done():
                        await connection.send(
                            error(
                                "rate_limited", "Wacht even tot het vorige antwoord klaar is.", retry_after=1
                            )
                        )
                        continue
                    verdict = await services.limiter.check(("session", conversation_id), ("ip", ip))
                    if not verdict.allowed:
                        await connection.send(
                            error(
                                "rate_limited",
                                f"U stelt veel vragen achter elkaar. Probeer het over {verdict.retry_after} "
                                "seconden opnieuw.",
                                retry_after=verdict.retry_after,
                            )
                        )
                        continue
                    turn_task = asyncio.create_task(
                        _answer(
                            services,
                            connection,
                            tenant,
                            conversation_id,
                            text,
                            getattr(message, "language", None),
                        )
                    )
                elif kind == "feedback":
                    stored = await services.chat.run(
                        feedback_store.rate_answer,
                        services.db,
                        tenant,
                        conversation_id,
                        message.message_id,  # type: ignore[union-attr]
                        message.rating,  # type: ignore[union-attr]
                        message.comment,  # type: ignore[union-attr]
                    )
                    if stored:
                        await connection.send({"type": "feedback_ok", "message_id": message.message_id})  # type: ignore[union-attr]
                    else:
                        await connection.send(
                            error("invalid_message", "Dit antwoord bestaat niet in uw gesprek.")
                        )
                elif kind == "score":
                    stored = await services.chat.run(
                        feedback_store.score_conversation,
                        services.db,
                        tenant,
                        conversation_id,
                        message.score,  # type: ignore[union-attr]
                        message.comment,  # type: ignore[union-attr]
                    )
                    if stored:
                        await connection.send({"type": "feedback_ok"})
                    else:
                        await connection.send(
                            error("invalid_message", "Stel eerst een vraag; dit gesprek is nog leeg.")
                        )
                elif kind == "handover":
                    await _request_handover(services, connection, tenant, conversation_id)
        except WebSocketDisconnect:
            return
        finally:
            forwarder.cancel()
            if turn_task is not None and not turn_task.done():
                # Let the answer finish and be stored; nobody is listening any more.
                pass
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await forwarder


def _too_long(limit: int) -> str:
    return f"Uw vraag is te lang. Gebruik maximaal {limit} tekens."


async def _answer(
    services: Services,
    connection: Connection,
    tenant: TenantProfile,
    conversation_id: str,
    text: str,
    language_hint: str | None,
) -> None:
    try:
        async for frame in services.chat.turn(
            tenant, text, conversation_id, channel="widget", language_hint=language_hint
        ):
            await connection.send(frame)
    except ConversationNotFound:
        await connection.send(
            error("invalid_message", "Dit gesprek bestaat niet meer. Begin een nieuw gesprek.")
        )
    except Exception as failure:
        log.error("ws.turn_failed", error_type=type(failure).__name__, error=str(failure)[:200])
        await connection.send(
            error("unavailable", "De assistent is tijdelijk niet beschikbaar. Probeer het later opnieuw.", 30)
        )


_timers: set[asyncio.Task[None]] = set()


async def _request_handover(
    services: Services, connection: Connection, tenant: TenantProfile, conversation_id: str
) -> None:
    contact = tenant.contact.model_dump(mode="json")
    if not await services.chat.live_handover(tenant):
        await connection.send(
            {
                "type": "handover",
                "status": "unavailable",
                "message": handover.unavailable_text(tenant),
                "contact": contact,
            }
        )
        return
    try:
        request = await services.chat.run(handover.create_request, services.db, tenant, conversation_id)
    except LookupError:
        await connection.send(
            {
                "type": "handover",
                "status": "unavailable",
                "message": tenant.addressed(
                    "Stel eerst uw vraag, dan zoek ik een medewerker voor u.",
                    "Stel eerst je vraag, dan zoek ik een medewerker voor je.",
                ),
                "contact": contact,
            }
        )
        return
    await connection.send(
        {
            "type": "handover",
            "status": "requested",
            "message": f"Ik zoek een medewerker voor {tenant.addressed('u', 'je')}.",
        }
    )
    await services.broker.publish(
        staff_channel(tenant.id), {"type": "handover_requested", "request": request}
    )
    if request["channel"] == "webhook":
        await handover.notify_webhook(tenant, "handover.requested", request)
    await connection.send(
        {
            "type": "handover",
            "status": "waiting",
            "message": f"Even geduld: {tenant.addressed('u', 'je')} bent aan de beurt zodra een medewerker "
            "vrij is.",
        }
    )
    timeout = handover.pickup_timeout_s(tenant, services.settings.handover_pickup_timeout_s)
    timer = asyncio.create_task(_expire_later(services, tenant, request["id"], conversation_id, timeout))
    _timers.add(timer)
    timer.add_done_callback(_timers.discard)


async def rearm_handover_timers(services: Services) -> int:
    """Pickup timers live in memory: after a restart, give every waiting request the rest of its time."""

    def waiting() -> list[tuple[TenantProfile, str, str, float]]:
        items = []
        for listed in list_tenants(services.db):
            tenant = get_profile(services.db, listed.slug)
            timeout = handover.pickup_timeout_s(tenant, services.settings.handover_pickup_timeout_s)
            for request_id, conversation_id, waited in handover.waiting_requests(services.db, tenant):
                items.append((tenant, request_id, conversation_id, max(0.0, timeout - waited)))
        return items

    try:
        items = await services.chat.run(waiting)
    except Exception:  # the database may still be starting; /readyz reports it
        log.warning("handover_timers_not_rearmed", exc_info=True)
        return 0
    for tenant, request_id, conversation_id, remaining in items:
        timer = asyncio.create_task(_expire_later(services, tenant, request_id, conversation_id, remaining))
        _timers.add(timer)
        timer.add_done_callback(_timers.discard)
    return len(items)


async def _expire_later(
    services: Services, tenant: TenantProfile, request_id: str, conversation_id: str, timeout: float
) -> None:
    await asyncio.sleep(timeout)
    if await services.chat.run(handover.expire_if_waiting, services.db, tenant, request_id):
        await services.broker.publish(
            conversation_channel(conversation_id),
            {
                "type": "handover",
                "status": "unavailable",
                "message": handover.unavailable_text(tenant),
                "contact": tenant.contact.model_dump(mode="json"),
            },
        )
        await services.broker.publish(
            staff_channel(tenant.id), {"type": "handover_expired", "handover_id": request_id}
        )


# -- staff ---------------------------------------------------------------------------------------


@router.websocket("/staff/ws")
async def staff_ws(websocket: WebSocket, slug: str) -> None:
    """The live handover queue: requests arrive, staff accept, write and close."""
    services: Services = websocket.app.state.services
    tenant = await _tenant(services, slug)
    if tenant is None:
        await _reject(
            websocket, CLOSE_WRONG_TENANT, error("unauthorized", f"Gemeente '{slug}' bestaat niet.")
        )
        return
    user: StaffUser | None = await services.chat.run(staff_from_token, services, socket_token(websocket))
    if user is None:
        await _reject(
            websocket, CLOSE_UNAUTHORIZED, error("unauthorized", "Log in met een geldig medewerkerstoken.")
        )
        return
    if not allows(user, tenant.id, Permission.HANDOVER_ANSWER):
        await _reject(
            websocket, CLOSE_WRONG_TENANT, error("unauthorized", "U heeft geen KCC-rol bij deze gemeente.")
        )
        return
    await _accept(websocket)
    connection = Connection(websocket)
    name = plain_text(user.name or user.email)
    queue = staff_channel(tenant.id)
    present_as = uuid.uuid4().hex  # this connection, as one staff member on the live queue
    async with services.broker.subscribe(queue) as subscription:

        async def forward() -> None:
            while True:
                await connection.send(await subscription.get())

        async def here() -> None:  # residents are offered a person only while someone is here
            while True:
                await services.broker.mark_present(queue, present_as)
                await asyncio.sleep(PRESENCE_TTL_S / 3)

        forwarder = asyncio.create_task(forward())
        presence = asyncio.create_task(here())
        try:
            await connection.send(
                {"type": "queue", "requests": await services.chat.run(handover.queue, services.db, tenant)}
            )
            while True:
                data, problem = await connection.receive(services.settings.ws_max_message_bytes)
                if data is None:
                    if not await connection.strike(problem or error("invalid_message", "Ongeldig bericht.")):
                        return
                    continue
                if data["type"] not in STAFF_TYPES:
                    if not await connection.strike(
                        error(
                            "unknown_type",
                            f"Onbekend berichttype; bekend zijn: {', '.join(sorted(STAFF_TYPES))}.",
                        )
                    ):
                        return
                    continue
                try:
                    message = staff_message.validate_python(data)
                except ValidationError:
                    if not await connection.strike(error("invalid_message", "Dit bericht is ongeldig.")):
                        return
                    continue
                if data["type"] == "ping":
                    await connection.send({"type": "pong"})
                    continue
                await _staff_action(services, connection, tenant, user, name, message)
        except WebSocketDisconnect:
            return
        finally:
            forwarder.cancel()
            presence.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await forwarder
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await presence
            await services.broker.mark_absent(queue, present_as)


async def _staff_action(
    services: Services,
    connection: Connection,
    tenant: TenantProfile,
    user: StaffUser,
    name: str,
    message: Any,
) -> None:
    kind = message.type
    if kind == "accept":
        request = await services.chat.run(
            handover.accept, services.db, tenant, message.handover_id, user.id, name
        )
        if request is None:
            await connection.send(error("invalid_message", "Dit verzoek is al opgepakt of gesloten."))
            return
        await services.broker.publish(
            staff_channel(tenant.id), {"type": "handover_accepted", "request": request}
        )
        await services.broker.publish(
            conversation_channel(request["conversation_id"]),
            {
                "type": "handover",
                "status": "accepted",
                "message": f"{name} van {tenant.name} helpt u verder.",
            },
        )
    elif kind == "message":
        result = await services.chat.run(
            handover.staff_say, services.db, tenant, message.handover_id, message.text, name
        )
        if result is None:
            await connection.send(error("invalid_message", "Neem het verzoek eerst aan."))
            return
        await services.broker.publish(conversation_channel(result["conversation_id"]), result["message"])
        await connection.send({"type": "sent", "handover_id": message.handover_id, **result["message"]})
    elif kind == "close":
        request = await services.chat.run(handover.close, services.db, tenant, message.handover_id)
        if request is None:
            await connection.send(error("invalid_message", "Dit verzoek is al gesloten."))
            return
        await services.broker.publish(
            staff_channel(tenant.id), {"type": "handover_closed", "request": request}
        )
        await services.broker.publish(
            conversation_channel(request["conversation_id"]),
            {
                "type": "handover",
                "status": "closed",
                "message": "De medewerker heeft het gesprek afgesloten.",
            },
        )
