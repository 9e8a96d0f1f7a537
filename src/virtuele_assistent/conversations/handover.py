"""Handover to a person: opening hours, the live queue, pickup timeout and the KCC webhook.

A resident asks for a person (or the assistant declined twice and offered it). Within the tenant's
opening hours, with live chat switched on (``contact.live_chat``) or a KCC webhook configured
(``settings.handover_webhook_url``), a handover request is created. Staff see it in their live
queue and answer in the same conversation; a webhook lets an external live-chat/KCC system take it.
Outside opening hours, or when nobody picks up within ``settings.handover_timeout_s`` (tenant) /
``VA_HANDOVER_PICKUP_TIMEOUT_S``, the resident gets the contact routes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import structlog
from sqlalchemy.orm import Session

from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import HandoverRequest, as_utc, utcnow
from virtuele_assistent.storage.repositories import ConversationRepository, HandoverRepository
from virtuele_assistent.tenants.schemas import TenantProfile
from virtuele_assistent.validation import plain_text

log = structlog.get_logger(__name__)
TIMEZONE = ZoneInfo("Europe/Amsterdam")
DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
_RANGE = re.compile(r"(\d{1,2})[:.](\d{2})\s*[-–]\s*(\d{1,2})[:.](\d{2})")


def is_open(tenant: TenantProfile, now: datetime | None = None) -> bool:
    moment = (now or datetime.now(TIMEZONE)).astimezone(TIMEZONE)
    hours = getattr(tenant.contact.opening_hours, DAYS[moment.weekday()], None)
    if not hours:
        return False
    minute = moment.hour * 60 + moment.minute
    for h1, m1, h2, m2 in _RANGE.findall(hours):
        if int(h1) * 60 + int(m1) <= minute < int(h2) * 60 + int(m2):
            return True
    return False


def webhook_url(tenant: TenantProfile) -> str | None:
    return tenant.settings.handover_webhook_url


def live_available(tenant: TenantProfile, staff_present: bool, now: datetime | None = None) -> bool:
    """A person can take over now, within opening hours: a KCC webhook, or live chat with a staff
    member on the live queue."""
    staffed = bool(webhook_url(tenant)) or (tenant.contact.live_chat and staff_present)
    return staffed and is_open(tenant, now)


def request_reply(tenant: TenantProfile, live: bool, now: datetime | None = None) -> str:
    """The answer to a resident who asks for a person: how, when someone can take over now; otherwise
    that nobody can, with the contact routes."""
    if not live:
        return unavailable_text(tenant, now)
    return (
        f"{tenant.addressed('U', 'Je')} wilt graag een medewerker spreken. Kies ‘Praat met een "
        f"medewerker’, dan geef ik het gesprek door aan een medewerker van {tenant.name}."
    )


def pickup_timeout_s(tenant: TenantProfile, default: float) -> float:
    return tenant.settings.handover_timeout_s or default


def unavailable_text(tenant: TenantProfile, now: datetime | None = None) -> str:
    from virtuele_assistent.conversations.guardrails import contact_routes

    hours = tenant.contact.opening_hours.model_dump(exclude_none=True)
    when = ", ".join(f"{day} {value}" for day, value in hours.items())
    reason = (
        "Er is nu geen medewerker beschikbaar voor de chat."
        if not is_open(tenant, now) or not (tenant.contact.live_chat or webhook_url(tenant))
        else "Er is op dit moment helaas geen medewerker vrij."
    )
    opening = f" Openingstijden: {when}." if when else ""
    again = tenant.addressed("Wilt u", "Wil je")
    return f"{reason} {contact_routes(tenant)}{opening} {again} het later nog eens proberen? Dat kan ook."


# -- requests (database) ---------------------------------------------------------------------------


def request_out(row: HandoverRequest, preview: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "status": row.status,
        "reason": row.reason,
        "channel": row.channel,
        "staff_name": row.staff_name,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "messages": preview or [],
    }


def _preview(session: Session, conversation_id: str, limit: int = 10) -> list[dict[str, str]]:
    messages = ConversationRepository(session).recent_messages(conversation_id, limit=limit)
    return [{"role": m.role, "text": m.content, "message_id": m.id} for m in messages]


def create_request(
    db: Database, tenant: TenantProfile, conversation_id: str, reason: str = "asked"
) -> dict[str, Any]:
    """Open (or return the open) handover request of a conversation."""
    with db.session() as session:
        repo = HandoverRepository(session)
        open_request = repo.open_for_conversation(tenant.id, conversation_id)
        if open_request is not None:
            return request_out(open_request, _preview(session, conversation_id))
        conversation = ConversationRepository(session).get(tenant.id, conversation_id)
        if conversation is None:
            raise LookupError(conversation_id)
        channel = "webhook" if webhook_url(tenant) else "staff"
        row = repo.add(
            HandoverRequest(
                tenant_id=tenant.id, conversation_id=conversation_id, reason=reason, channel=channel
            )
        )
        conversation.status = "handover_requested"
        return request_out(row, _preview(session, conversation_id))


def expire_if_waiting(db: Database, tenant: TenantProfile, request_id: str) -> bool:
    """Nobody picked the request up in time: close it; True when it was still waiting."""
    with db.session() as session:
        row = HandoverRepository(session).get(tenant.id, request_id)
        if row is None or row.status != "requested":
            return False
        row.status = "expired"
        row.closed_at = utcnow()
        conversation = ConversationRepository(session).get(tenant.id, row.conversation_id)
        if conversation is not None:
            conversation.status = "open"
        return True


def accept(
    db: Database, tenant: TenantProfile, request_id: str, user_id: int | None, name: str
) -> dict | None:
    with db.session() as session:
        row = HandoverRepository(session).get(tenant.id, request_id)
        if row is None or row.status not in ("requested", "accepted"):
            return None
        if row.status == "accepted" and row.staff_user_id not in (None, user_id):
            return None
        row.status = "accepted"
        row.staff_user_id = user_id or None
        row.staff_name = name
        row.accepted_at = row.accepted_at or utcnow()
        conversation = ConversationRepository(session).get(tenant.id, row.conversation_id)
        if conversation is not None:
            conversation.status = "with_staff"
        return request_out(row)


def close(db: Database, tenant: TenantProfile, request_id: str) -> dict | None:
    with db.session() as session:
        row = HandoverRepository(session).get(tenant.id, request_id)
        if row is None or row.status in ("closed", "expired"):
            return None
        row.status = "closed"
        row.closed_at = utcnow()
        conversation = ConversationRepository(session).get(tenant.id, row.conversation_id)
        if conversation is not None:
            conversation.status = "open"
        return request_out(row)


def staff_say(db: Database, tenant: TenantProfile, request_id: str, text: str, name: str) -> dict | None:
    """Store a staff message in the conversation; the text is redacted like everything stored."""
    from virtuele_assistent.conversations.privacy import redact_text

    with db.session() as session:
        row = HandoverRepository(session).get(tenant.id, request_id)
        if row is None or row.status != "accepted":
            return None
        conversations = ConversationRepository(session)
        conversation = conversations.get(tenant.id, row.conversation_id)
        if conversation is None:
            return None
        message = conversations.add_message(
            conversation, "staff", redact_text(plain_text(text)), meta={"name": name, "handover_id": row.id}
        )
        return {
            "conversation_id": row.conversation_id,
            "message": {
                "type": "staff_message",
                "message_id": message.id,
                "text": message.content,
                "name": name,
            },
        }


def waiting_requests(
    db: Database, tenant: TenantProfile, now: datetime | None = None
) -> list[tuple[str, str, float]]:
    """(request id, conversation id, seconds waited) of each request still waiting for pickup."""
    moment = now or utcnow()
    with db.session() as session:
        rows = HandoverRepository(session).open_requests(tenant.id)
        return [
            (row.id, row.conversation_id, (moment - as_utc(row.created_at)).total_seconds())
            for row in rows
            if row.status == "requested"
        ]


def queue(db: Database, tenant: TenantProfile) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = HandoverRepository(session).open_requests(tenant.id)
        return [request_out(row, _preview(session, row.conversation_id)) for row in rows]


def get_request(db: Database, tenant: TenantProfile, request_id: str) -> dict[str, Any] | None:
    with db.session() as session:
        row = HandoverRepository(session).get(tenant.id, request_id)
        return request_out(row) if row is not None else None


# -- KCC webhook -------------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``timestamp.body``; sent as ``X-VA-Signature: sha256=<hex>``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, max_age_s: int = 300) -> bool:
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def webhook_secret(tenant: TenantProfile) -> str | None:
    return tenant.settings.handover_webhook_secret


async def notify_webhook(tenant: TenantProfile, event: str, payload: dict[str, Any]) -> bool:
    """POST the event to the tenant's KCC system, signed; False when it did not accept it."""
    url, secret = webhook_url(tenant), webhook_secret(tenant)
    if not url or not secret:
        return False
    body = json.dumps({"event": event, "tenant": tenant.slug, "data": payload}, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-VA-Event": event,
        "X-VA-Timestamp": timestamp,
        "X-VA-Signature": sign(secret, timestamp, body),
    }
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.post(url, content=body, headers=headers)
        ok = response.status_code < 300
    except httpx.HTTPError as failure:
        log.warning("handover.webhook_failed", error=str(failure)[:200])
        return False
    if not ok:
        log.warning("handover.webhook_refused", status=response.status_code)
    return ok
