"""What is kept of a conversation's texts once it has ended, per municipality (``settings.transcripts``).

- ``full`` (the default): questions and answers as stored, personal data already redacted.
- ``pseudonymised``: the resident's and staff's messages and feedback comments also lose names, dates
  and long numbers (``privacy.pseudonymise``); the assistant's answers are the municipality's own text
  and stay.
- ``none``: every text goes; what happened stays (outcome, sources, backend, feedback, marks), so the
  figures and the review of how answers came about still work.

A conversation has ended when nothing was said for ``ENDED_AFTER``: until then its texts are what a
follow-up question is understood with. Each message is handled once (``meta.transcript``); a message
added when a resident comes back later is handled when the conversation ends again. Runs with the
scheduler's hourly housekeeping and with ``va conversations purge``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from virtuele_assistent.answering.text import words
from virtuele_assistent.conversations.privacy import pseudonymise
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import Conversation, Feedback, Message, utcnow
from virtuele_assistent.storage.repositories import TenantRepository
from virtuele_assistent.tenants.settings import load_tenant_settings

log = structlog.get_logger(__name__)

ENDED_AFTER = timedelta(hours=1)
BATCH = 500


def apply_transcript_modes(db: Database, now: datetime | None = None) -> dict[str, int]:
    """Per municipality that does not keep full texts: the messages of ended conversations handled now."""
    cutoff = (now or utcnow()) - ENDED_AFTER
    with db.session() as session:
        tenants = [
            (t.id, t.slug, t.name, load_tenant_settings(t.settings, t.slug))
            for t in TenantRepository(session).list()
        ]
    handled: dict[str, int] = {}
    for tenant_id, slug, name, settings in tenants:
        if settings.transcripts == "full":
            continue
        known = {word.lower() for word in words(" ".join([name, slug, *settings.place_names]))}
        count = 0
        while True:
            with db.session() as session:
                done = _handle_batch(session, tenant_id, settings.transcripts, cutoff, known)
            count += done
            if done < BATCH:
                break
        handled[slug] = count
        if count:
            log.info("transcripts.handled", tenant=slug, mode=settings.transcripts, messages=count)
    return handled


def _handle_batch(session: Session, tenant_id: int, mode: str, cutoff: datetime, known: set[str]) -> int:
    ended = select(Conversation.id).where(
        Conversation.tenant_id == tenant_id, Conversation.last_activity_at < cutoff
    )
    messages = session.scalars(
        select(Message)
        .where(
            Message.tenant_id == tenant_id,
            Message.conversation_id.in_(ended),
            Message.meta["transcript"].as_string().is_(None),
        )
        .order_by(Message.conversation_id, Message.created_at)
        .limit(BATCH)
    ).all()
    if not messages:
        return 0
    conversation_ids = {m.conversation_id for m in messages}
    answers: dict[str, set[str]] = {}
    if mode == "pseudonymised":  # the municipality's own words in each conversation are no names
        for conversation_id, content in session.execute(
            select(Message.conversation_id, Message.content).where(
                Message.conversation_id.in_(conversation_ids), Message.role == "assistant"
            )
        ):
            answers.setdefault(conversation_id, set()).update(w.lower() for w in words(content))
    names: dict[str, set[str]] = {}  # per conversation: the names found, replaced wherever they recur
    for message in messages:
        if mode == "none":
            message.content = ""
        elif message.role != "assistant":
            message.content = pseudonymise(
                message.content,
                known | answers.get(message.conversation_id, set()),
                names.setdefault(message.conversation_id, set()),
            )
        message.meta = {**(message.meta or {}), "transcript": mode}
    for item in session.scalars(
        select(Feedback).where(Feedback.conversation_id.in_(conversation_ids), Feedback.comment.is_not(None))
    ):
        if mode == "none":
            item.comment = None
        else:
            item.comment = pseudonymise(
                item.comment or "",
                known | answers.get(item.conversation_id, set()),
                names.setdefault(item.conversation_id, set()),
            )
    return len(messages)
