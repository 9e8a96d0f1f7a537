"""Data-subject requests on one conversation: its export (AVG art. 15) and its erasure (art. 17), each
in the audit log; the list of a tenant's conversations to find it. Every time is given with its zone
(UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import Feedback, as_utc
from virtuele_assistent.storage.repositories import AuditLog, ConversationRepository, HandoverRepository
from virtuele_assistent.tenants.schemas import TenantProfile


def export_conversation(
    db: Database, tenant: TenantProfile, conversation_id: str, actor: str
) -> dict[str, Any] | None:
    with db.session() as session:
        conversation = ConversationRepository(session).get(tenant.id, conversation_id)
        if conversation is None:
            return None
        feedback = session.scalars(
            select(Feedback).where(
                Feedback.tenant_id == tenant.id, Feedback.conversation_id == conversation_id
            )
        ).all()
        handovers = HandoverRepository(session).for_conversation(conversation_id)
        AuditLog(session).record(tenant.id, actor, "conversation.export", "conversation", conversation_id)
        return {
            "tenant": tenant.slug,
            "conversation": {
                "id": conversation.id,
                "channel": conversation.channel,
                "language": conversation.language,
                "status": conversation.status,
                "created_at": _moment(conversation.created_at),
                "last_activity_at": _moment(conversation.last_activity_at),
            },
            "messages": [
                {
                    "id": m.id,
                    "role": m.role,
                    "text": m.content,
                    "sources": m.sources,
                    "declined": m.declined,
                    "created_at": _moment(m.created_at),
                }
                for m in conversation.messages
            ],
            "feedback": [
                {"message_id": f.message_id, "rating": f.rating, "score": f.score, "comment": f.comment}
                for f in feedback
            ],
            "handover_requests": [
                {"id": h.id, "status": h.status, "reason": h.reason, "created_at": _moment(h.created_at)}
                for h in handovers
            ],
            "note": "Persoonsgegevens zijn bij opslag vervangen door [BSN], [IBAN] en dergelijke; "
            "de oorspronkelijke waarden zijn nooit bewaard.",
        }


def erase_conversation(db: Database, tenant: TenantProfile, conversation_id: str, actor: str) -> bool:
    """Delete the conversation with its messages, feedback, marks and handover requests; the audit
    log says who and when, not what was said. False when it does not exist (any more)."""
    with db.session() as session:
        conversations = ConversationRepository(session)
        conversation = conversations.get(tenant.id, conversation_id)
        if conversation is None:
            return False
        messages = len(conversation.messages)
        conversations.delete(conversation)
        AuditLog(session).record(
            tenant.id, actor, "conversation.erase", "conversation", conversation_id, {"messages": messages}
        )
        return True


def _moment(value: datetime) -> str:
    return as_utc(value).isoformat()


def list_conversations(
    db: Database, tenant: TenantProfile, since: datetime | None, until: datetime | None, limit: int = 100
) -> list[dict[str, Any]]:
    """The tenant's conversations started in [since, until), newest first: what an export needs to
    find one (the id) and to tell them apart (when, channel, language, status, messages)."""
    with db.session() as session:
        rows = ConversationRepository(session).started_between(tenant.id, since, until, limit)
        return [
            {
                "id": conversation.id,
                "created_at": _moment(conversation.created_at),
                "last_activity_at": _moment(conversation.last_activity_at),
                "channel": conversation.channel,
                "language": conversation.language,
                "status": conversation.status,
                "messages": count,
            }
            for conversation, count in rows
        ]
