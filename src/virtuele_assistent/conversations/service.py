"""One turn of a conversation: store the question, answer it, store the answer."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from virtuele_assistent.answering.service import Answer, AnswerService
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.repositories import ConversationRepository
from virtuele_assistent.tenants.schemas import TenantProfile

log = structlog.get_logger(__name__)


class ConversationNotFound(LookupError):
    pass


@dataclass
class Turn:
    conversation_id: str
    message_id: str
    answer: Answer


class ChatService:
    def __init__(self, db: Database, answers: AnswerService) -> None:
        self.db = db
        self.answers = answers

    def ask(
        self, tenant: TenantProfile, question: str, conversation_id: str | None = None, channel: str = "api"
    ) -> Turn:
        with self.db.session() as session:
            conversations = ConversationRepository(session)
            if conversation_id:
                conversation = conversations.get(tenant.id, conversation_id)
                if conversation is None:
                    raise ConversationNotFound(conversation_id)
            else:
                conversation = conversations.create(tenant.id, channel=channel)
            conversations.add_message(conversation, "resident", question)
            conversation_id = conversation.id

        answer = self.answers.answer(tenant, question)

        with self.db.session() as session:
            conversations = ConversationRepository(session)
            conversation = conversations.get(tenant.id, conversation_id)
            assert conversation is not None
            message = conversations.add_message(
                conversation,
                "assistant",
                answer.text,
                sources=[{"index": s.index, "url": s.url, "title": s.title} for s in answer.sources],
                declined=answer.declined,
                meta={"timings_ms": answer.timings_ms},
            )
            message_id = message.id
        log.info(
            "chat.turn",
            conversation_id=conversation_id,
            declined=answer.declined,
            sources=len(answer.sources),
        )
        return Turn(conversation_id, message_id, answer)
