"""Repositories: narrow, named operations on the relational store. No SQL outside this package."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from virtuele_assistent.storage.models import (
    AuditLogEntry,
    Chunk,
    Conversation,
    Document,
    Feedback,
    Message,
    Source,
    Tenant,
    utcnow,
)


class TenantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, tenant: Tenant) -> Tenant:
        self.session.add(tenant)
        self.session.flush()
        return tenant

    def get_by_slug(self, slug: str) -> Tenant | None:
        return self.session.scalar(select(Tenant).where(Tenant.slug == slug))

    def get(self, tenant_id: int) -> Tenant | None:
        return self.session.get(Tenant, tenant_id)

    def list(self) -> Sequence[Tenant]:
        return self.session.scalars(select(Tenant).order_by(Tenant.slug)).all()


class SourceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, source: Source) -> Source:
        self.session.add(source)
        self.session.flush()
        return source

    def get(self, tenant_id: int, source_id: int) -> Source | None:
        return self.session.scalar(
            select(Source).where(Source.tenant_id == tenant_id, Source.id == source_id)
        )

    def get_by_name(self, tenant_id: int, name: str) -> Source | None:
        return self.session.scalar(select(Source).where(Source.tenant_id == tenant_id, Source.name == name))

    def list(self, tenant_id: int) -> Sequence[Source]:
        return self.session.scalars(
            select(Source).where(Source.tenant_id == tenant_id).order_by(Source.id)
        ).all()


class DocumentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_url(self, tenant_id: int, url: str) -> Document | None:
        return self.session.scalar(
            select(Document).where(Document.tenant_id == tenant_id, Document.url == url)
        )

    def get(self, tenant_id: int, document_id: int) -> Document | None:
        return self.session.scalar(
            select(Document).where(Document.tenant_id == tenant_id, Document.id == document_id)
        )

    def add(self, document: Document) -> Document:
        self.session.add(document)
        self.session.flush()
        return document

    def list_active(self, tenant_id: int, source_id: int | None = None) -> Sequence[Document]:
        query = select(Document).where(Document.tenant_id == tenant_id, Document.status == "active")
        if source_id is not None:
            query = query.where(Document.source_id == source_id)
        return self.session.scalars(query.order_by(Document.url)).all()

    def count_active(self, tenant_id: int) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(Document)
                .where(Document.tenant_id == tenant_id, Document.status == "active")
            )
            or 0
        )

    def replace_chunks(self, document: Document, chunks: list[Chunk]) -> list[str]:
        """Swap the document's chunks for new ones; returns the ids of the removed chunks."""
        old_ids = list(self.session.scalars(select(Chunk.id).where(Chunk.document_id == document.id)))
        self.session.execute(delete(Chunk).where(Chunk.document_id == document.id))
        for chunk in chunks:
            chunk.document_id = document.id
            chunk.tenant_id = document.tenant_id
            self.session.add(chunk)
        self.session.flush()
        return old_ids

    def chunk_ids_by_hash(self, content_hashes: Sequence[str]) -> dict[str, str]:
        """One existing chunk id per content hash (any document, any tenant): identical text has
        an identical embedding, so its stored vector can be reused."""
        out: dict[str, str] = {}
        hashes = list(dict.fromkeys(content_hashes))
        for start in range(0, len(hashes), 500):
            rows = self.session.execute(
                select(Chunk.content_hash, Chunk.id).where(
                    Chunk.content_hash.in_(hashes[start : start + 500])
                )
            )
            for content_hash, chunk_id in rows:
                out.setdefault(content_hash, chunk_id)
        return out

    def chunk_ids(self, document_id: int) -> list[str]:
        return list(self.session.scalars(select(Chunk.id).where(Chunk.document_id == document_id)))

    def mark_removed(self, document: Document) -> list[str]:
        """Remove a document from search; returns the ids of its chunks for the vector store."""
        removed = self.replace_chunks(document, [])
        document.status = "removed"
        document.changed_at = utcnow()
        return removed

    def chunks_by_ids(self, tenant_id: int, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        rows = self.session.scalars(
            select(Chunk).where(Chunk.tenant_id == tenant_id, Chunk.id.in_(list(chunk_ids)))
        ).all()
        return {row.id: row for row in rows}


class ConversationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, tenant_id: int, channel: str = "api", language: str | None = None) -> Conversation:
        conversation = Conversation(tenant_id=tenant_id, channel=channel, language=language)
        self.session.add(conversation)
        self.session.flush()
        return conversation

    def get(self, tenant_id: int, conversation_id: str) -> Conversation | None:
        return self.session.scalar(
            select(Conversation).where(
                Conversation.tenant_id == tenant_id, Conversation.id == conversation_id
            )
        )

    def add_message(
        self,
        conversation: Conversation,
        role: str,
        content: str,
        *,
        sources: list[dict[str, Any]] | None = None,
        declined: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> Message:
        message = Message(
            conversation_id=conversation.id,
            tenant_id=conversation.tenant_id,
            role=role,
            content=content,
            sources=sources or [],
            declined=declined,
            meta=meta or {},
        )
        conversation.last_activity_at = utcnow()
        self.session.add(message)
        self.session.flush()
        return message

    def recent_messages(self, conversation_id: str, limit: int = 10) -> list[Message]:
        rows = self.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at.desc())
            .limit(limit)
        ).all()
        return list(reversed(rows))

    def get_message(self, tenant_id: int, message_id: str) -> Message | None:
        return self.session.scalar(
            select(Message).where(Message.tenant_id == tenant_id, Message.id == message_id)
        )

    def delete(self, conversation: Conversation) -> None:
        self.session.delete(conversation)

    def purge_older_than(self, tenant_id: int, cutoff: datetime) -> int:
        result = self.session.execute(
            delete(Conversation).where(
                Conversation.tenant_id == tenant_id, Conversation.last_activity_at < cutoff
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class FeedbackRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, feedback: Feedback) -> Feedback:
        self.session.add(feedback)
        self.session.flush()
        return feedback


class AuditLog:
    """Append-only record of changes made by staff, operators and the system."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        tenant_id: int | None,
        actor: str,
        action: str,
        target_type: str,
        target_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditLogEntry(
                tenant_id=tenant_id,
                actor=actor,
                action=action,
                target_type=target_type,
                target_id=target_id,
                details=details or {},
            )
        )

    def list(self, tenant_id: int, limit: int = 100) -> Sequence[AuditLogEntry]:
        return self.session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.tenant_id == tenant_id)
            .order_by(AuditLogEntry.id.desc())
            .limit(limit)
        ).all()
