"""Feedback per tenant: thumbs up/down (with an optional comment) per answer, and a 0-10 score."""

from __future__ import annotations

from virtuele_assistent.conversations.privacy import redact_text
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import Feedback
from virtuele_assistent.storage.repositories import ConversationRepository, FeedbackRepository
from virtuele_assistent.tenants.schemas import TenantProfile
from virtuele_assistent.validation import plain_text


def rate_answer(
    db: Database,
    tenant: TenantProfile,
    conversation_id: str,
    message_id: str,
    rating: str,
    comment: str | None,
) -> bool:
    """Store thumbs on one of the conversation's answers; False when it is not one of them."""
    if rating not in ("up", "down"):
        raise ValueError(rating)
    with db.session() as session:
        message = ConversationRepository(session).get_message(tenant.id, message_id)
        if message is None or message.conversation_id != conversation_id or message.role != "assistant":
            return False
        FeedbackRepository(session).add(
            Feedback(
                tenant_id=tenant.id,
                conversation_id=conversation_id,
                message_id=message_id,
                rating=rating,
                comment=redact_text(plain_text(comment.strip()))[:2000]
                if comment and comment.strip()
                else None,
            )
        )
        return True


def score_conversation(
    db: Database, tenant: TenantProfile, conversation_id: str, score: int, comment: str | None
) -> bool:
    if not 0 <= score <= 10:
        raise ValueError(score)
    with db.session() as session:
        if ConversationRepository(session).get(tenant.id, conversation_id) is None:
            return False
        FeedbackRepository(session).add(
            Feedback(
                tenant_id=tenant.id,
                conversation_id=conversation_id,
                score=score,
                comment=redact_text(plain_text(comment.strip()))[:2000]
                if comment and comment.strip()
                else None,
            )
        )
        return True


def _stored(comment: str | None) -> str | None:
    """A resident's comment as kept: plain text, personal data redacted, at most 2000 characters."""
    if not comment or not comment.strip():
        return None
    return redact_text(plain_text(comment.strip()))[:2000]
