"""Repositories: narrow, named operations on the relational store. No SQL outside this package."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from virtuele_assistent.storage import audit_chain
from virtuele_assistent.storage.models import (
    AuditLogEntry,
    Chunk,
    Conversation,
    CrawlPage,
    Document,
    Feedback,
    HandoverRequest,
    Job,
    Message,
    Role,
    RoleAssignment,
    Source,
    Tenant,
    UnitVector,
    User,
    new_id,
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

    def without_content(self) -> Sequence[str]:
        """Slugs of the tenants with no indexed document (nothing to answer from yet)."""
        indexed = select(Document.tenant_id).where(Document.status == "active").distinct()
        query = select(Tenant.slug).where(Tenant.id.not_in(indexed)).order_by(Tenant.slug)
        return self.session.scalars(query).all()

    def counts(self, tenant_id: int) -> dict[str, int]:
        """Rows the tenant holds, per kind."""
        kinds: dict[str, Any] = {
            "sources": Source,
            "documents": Document,
            "chunks": Chunk,
            "conversations": Conversation,
            "jobs": Job,
        }
        return {
            name: int(self.session.scalar(select(func.count()).where(model.tenant_id == tenant_id)) or 0)
            for name, model in kinds.items()
        }

    def delete(self, tenant_id: int) -> dict[str, int]:
        """Remove the tenant and everything of it, children before parents, and say how many rows of
        each went. The audit log stays (its entries lose the tenant's id, not their target); tenants
        that inherited its content keep their own."""
        chunk_ids = select(Chunk.id).where(Chunk.tenant_id == tenant_id).scalar_subquery()
        steps: list[tuple[str, Any]] = [
            ("unit_vectors", delete(UnitVector).where(UnitVector.chunk_id.in_(chunk_ids))),
            ("feedback", delete(Feedback).where(Feedback.tenant_id == tenant_id)),
            ("handover_requests", delete(HandoverRequest).where(HandoverRequest.tenant_id == tenant_id)),
            ("messages", delete(Message).where(Message.tenant_id == tenant_id)),
            ("conversations", delete(Conversation).where(Conversation.tenant_id == tenant_id)),
            ("crawl_pages", delete(CrawlPage).where(CrawlPage.tenant_id == tenant_id)),
            ("jobs", delete(Job).where(Job.tenant_id == tenant_id)),
            ("chunks", delete(Chunk).where(Chunk.tenant_id == tenant_id)),
            ("documents", delete(Document).where(Document.tenant_id == tenant_id)),
            ("sources", delete(Source).where(Source.tenant_id == tenant_id)),
            ("role_assignments", delete(RoleAssignment).where(RoleAssignment.tenant_id == tenant_id)),
        ]
        counts = {name: self._rows(statement) for name, statement in steps}
        self._rows(update(Tenant).where(Tenant.inherits_from == tenant_id).values(inherits_from=None))
        self._rows(update(AuditLogEntry).where(AuditLogEntry.tenant_id == tenant_id).values(tenant_id=None))
        counts["tenants"] = self._rows(delete(Tenant).where(Tenant.id == tenant_id))
        return counts

    def _rows(self, statement: Any) -> int:
        return int(self.session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


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

    def enabled(self, kind: str) -> Sequence[Source]:
        """Enabled sources of one kind across all tenants (for the scheduler)."""
        return self.session.scalars(
            select(Source).where(Source.kind == kind, Source.enabled.is_(True)).order_by(Source.id)
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


# A chat turn's statements, built once (the ORM's unit of work costs more than the rows).
_MESSAGES = cast(Table, Message.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_INSERT_MESSAGE = _MESSAGES.insert()
_TURN_STATE = select(_CONVERSATIONS.c.status, _CONVERSATIONS.c.meta).where(
    _CONVERSATIONS.c.id == bindparam("id"), _CONVERSATIONS.c.tenant_id == bindparam("tenant_id")
)
_TOUCH_CONVERSATION = _CONVERSATIONS.update().where(_CONVERSATIONS.c.id == bindparam("conversation_id"))


def _message_values(
    tenant_id: int,
    conversation_id: str,
    role: str,
    content: str,
    sources: list[dict[str, Any]] | None,
    declined: bool,
    meta: dict[str, Any] | None,
    message_id: str | None,
) -> dict[str, Any]:
    return {
        "id": message_id or new_id(),
        "conversation_id": conversation_id,
        "tenant_id": tenant_id,
        "role": role,
        "content": content,
        "sources": sources or [],
        "declined": declined,
        "meta": meta or {},
        "created_at": utcnow(),
    }


class ConversationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        tenant_id: int,
        channel: str = "api",
        language: str | None = None,
        conversation_id: str | None = None,
    ) -> Conversation:
        conversation = Conversation(tenant_id=tenant_id, channel=channel, language=language)
        if conversation_id:
            conversation.id = conversation_id
        self.session.add(conversation)
        self.session.flush()
        return conversation

    def started_between(
        self, tenant_id: int, since: datetime | None, until: datetime | None, limit: int
    ) -> list[tuple[Conversation, int]]:
        """The tenant's conversations started in [since, until), newest first, with their message count."""
        messages = (
            select(func.count(Message.id)).where(Message.conversation_id == Conversation.id).scalar_subquery()
        )
        query = select(Conversation, messages).where(Conversation.tenant_id == tenant_id)
        if since is not None:
            query = query.where(Conversation.created_at >= since)
        if until is not None:
            query = query.where(Conversation.created_at < until)
        rows = self.session.execute(query.order_by(Conversation.created_at.desc()).limit(limit)).all()
        return [(conversation, int(count or 0)) for conversation, count in rows]

    def get(self, tenant_id: int, conversation_id: str) -> Conversation | None:
        # By primary key (the session's cached lookup), then the tenant check.
        conversation = self.session.get(Conversation, conversation_id)
        return conversation if conversation is not None and conversation.tenant_id == tenant_id else None

    def add_message(
        self,
        conversation: Conversation,
        role: str,
        content: str,
        *,
        sources: list[dict[str, Any]] | None = None,
        declined: bool = False,
        meta: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> Message:
        """Store a message: one INSERT, without the unit of work."""
        values = _message_values(
            conversation.tenant_id, conversation.id, role, content, sources, declined, meta, message_id
        )
        self.session.execute(_INSERT_MESSAGE, values)
        conversation.last_activity_at = values["created_at"]
        return Message(**values)

    def turn_state(self, tenant_id: int, conversation_id: str) -> tuple[str, dict[str, Any]] | None:
        """(status, meta) of the tenant's conversation, or None: what a chat turn reads."""
        row = self.session.execute(_TURN_STATE, {"id": conversation_id, "tenant_id": tenant_id}).first()
        return (row.status, dict(row.meta or {})) if row is not None else None

    def append_message(
        self,
        tenant_id: int,
        conversation_id: str,
        role: str,
        content: str,
        *,
        sources: list[dict[str, Any]] | None = None,
        declined: bool = False,
        meta: dict[str, Any] | None = None,
        message_id: str | None = None,
        conversation: dict[str, Any] | None = None,
    ) -> str:
        """A chat turn's writes: touch the conversation (and set ``conversation``'s columns) and
        store the message, two plain statements issued together just before the commit, so that
        SQLite's single writer is held as briefly as possible. Returns the message id."""
        values = _message_values(
            tenant_id, conversation_id, role, content, sources, declined, meta, message_id
        )
        self.session.execute(
            _TOUCH_CONVERSATION,
            {
                "conversation_id": conversation_id,
                "last_activity_at": values["created_at"],
                **(conversation or {}),
            },
        )
        self.session.execute(_INSERT_MESSAGE, values)
        return str(values["id"])

    def history(self, conversation_id: str, limit: int = 10) -> list[tuple[str, str]]:
        """(role, text) of the last ``limit`` messages, oldest first."""
        rows = self.session.execute(
            select(Message.role, Message.content)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at.desc())
            .limit(limit)
        ).all()
        return [(role, content) for role, content in reversed(rows)]

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

    def count_older_than(self, tenant_id: int, cutoff: datetime) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.tenant_id == tenant_id, Conversation.last_activity_at < cutoff)
            )
            or 0
        )

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


class HandoverRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: HandoverRequest) -> HandoverRequest:
        self.session.add(request)
        self.session.flush()
        return request

    def get(self, tenant_id: int, request_id: str) -> HandoverRequest | None:
        return self.session.scalar(
            select(HandoverRequest).where(
                HandoverRequest.tenant_id == tenant_id, HandoverRequest.id == request_id
            )
        )

    def open_for_conversation(self, tenant_id: int, conversation_id: str) -> HandoverRequest | None:
        return self.session.scalar(
            select(HandoverRequest).where(
                HandoverRequest.tenant_id == tenant_id,
                HandoverRequest.conversation_id == conversation_id,
                HandoverRequest.status.in_(("requested", "accepted")),
            )
        )

    def open_requests(self, tenant_id: int) -> Sequence[HandoverRequest]:
        return self.session.scalars(
            select(HandoverRequest)
            .where(
                HandoverRequest.tenant_id == tenant_id, HandoverRequest.status.in_(("requested", "accepted"))
            )
            .order_by(HandoverRequest.created_at)
        ).all()

    def for_conversation(self, conversation_id: str) -> Sequence[HandoverRequest]:
        return self.session.scalars(
            select(HandoverRequest)
            .where(HandoverRequest.conversation_id == conversation_id)
            .order_by(HandoverRequest.created_at)
        ).all()


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email))

    def role(self, name: str) -> Role | None:
        return self.session.scalar(select(Role).where(Role.name == name))

    def assign(self, user_id: int, role_id: int, tenant_id: int | None) -> None:
        self.session.add(RoleAssignment(user_id=user_id, role_id=role_id, tenant_id=tenant_id))
        self.session.flush()

    def unassign_all(self, user_id: int) -> None:
        self.session.execute(delete(RoleAssignment).where(RoleAssignment.user_id == user_id))

    def roles_of(self, user_id: int) -> list[tuple[str, int | None]]:
        rows = self.session.execute(
            select(Role.name, RoleAssignment.tenant_id)
            .join(RoleAssignment, RoleAssignment.role_id == Role.id)
            .where(RoleAssignment.user_id == user_id)
        ).all()
        return [(name, tenant_id) for name, tenant_id in rows]


class AuditLog:
    """Append-only record of changes made by staff, operators and the system, as a hash chain
    (storage/audit_chain.py); secrets in ``details`` are masked before they are written."""

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
    ) -> AuditLogEntry:
        tenant = self.session.get(Tenant, tenant_id) if tenant_id is not None else None
        entry = AuditLogEntry(
            tenant_id=tenant_id,
            tenant_slug=tenant.slug if tenant is not None else None,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
        )
        return audit_chain.append(self.session, entry)

    def list(self, tenant_id: int, limit: int = 100) -> Sequence[AuditLogEntry]:
        return self.session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.tenant_id == tenant_id)
            .order_by(AuditLogEntry.id.desc())
            .limit(limit)
        ).all()


def _insert(session: Session, table: Any) -> Any:
    """A dialect INSERT that knows ON CONFLICT (SQLite and PostgreSQL both do)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


class JobRepository:
    """Jobs with leases: a worker owns a running job while its heartbeat is fresh."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, job: Job) -> Job:
        self.session.add(job)
        self.session.flush()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.session.get(Job, job_id)

    def get_for_tenant(self, tenant_id: int, job_id: str) -> Job | None:
        return self.session.scalar(select(Job).where(Job.tenant_id == tenant_id, Job.id == job_id))

    def active(self, key: str) -> Job | None:
        return self.session.scalar(select(Job).where(Job.active_key == key))

    def running(self, tenant_id: int, fresh_after: datetime) -> Sequence[Job]:
        """The tenant's jobs that a worker is running now (heartbeat after ``fresh_after``)."""
        return self.session.scalars(
            select(Job).where(
                Job.tenant_id == tenant_id, Job.status == "running", Job.heartbeat_at >= fresh_after
            )
        ).all()

    def recent(
        self, tenant_id: int, source_id: int | None = None, status: str | None = None, limit: int = 50
    ) -> Sequence[Job]:
        query = select(Job).where(Job.tenant_id == tenant_id)
        if source_id is not None:
            query = query.where(Job.source_id == source_id)
        if status is not None:
            query = query.where(Job.status == status)
        return self.session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit)).all()

    def claim(self, job_id: str, worker_id: str, stale_before: datetime) -> bool:
        """Take a queued job, or a running one whose worker stopped sending heartbeats."""
        now = utcnow()
        result = self.session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                or_(
                    Job.status == "queued",
                    and_(
                        Job.status == "running",
                        or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale_before),
                    ),
                ),
            )
            .values(
                status="running",
                worker_id=worker_id,
                heartbeat_at=now,
                started_at=func.coalesce(Job.started_at, now),
                attempts=Job.attempts + 1,
            )
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    def heartbeat(self, job_id: str, worker_id: str, progress: dict[str, Any] | None = None) -> bool:
        """False when the job was cancelled or taken over: the worker must stop."""
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if progress is not None:
            values["progress"] = progress
        result = self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == "running")
            .values(**values)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    def finish(
        self, job_id: str, worker_id: str, status: str, progress: dict[str, Any], error: str | None = None
    ) -> bool:
        result = self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == "running")
            .values(status=status, progress=progress, error=error, finished_at=utcnow(), active_key=None)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    def release(self, job_id: str, worker_id: str, progress: dict[str, Any]) -> bool:
        """Give a running job back at once (its worker was stopped): queued again, with no lease, so
        the next worker or `va crawl` takes it over without waiting for the lease to expire."""
        result = self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == "running")
            .values(
                status="queued", worker_id=None, heartbeat_at=None, progress={**progress, "interrupted": True}
            )
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    def cancel(self, job: Job) -> bool:
        if job.status not in ("queued", "running"):
            return False
        job.status, job.active_key, job.finished_at = "cancelled", None, utcnow()
        self.session.flush()
        return True

    def runnable_ids(self, stale_before: datetime, kind: str | None = None) -> list[str]:
        """Queued jobs and running jobs whose worker is gone, oldest first."""
        query = select(Job.id).where(
            or_(
                Job.status == "queued",
                and_(
                    Job.status == "running", or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale_before)
                ),
            )
        )
        if kind is not None:
            query = query.where(Job.kind == kind)
        return list(self.session.scalars(query.order_by(Job.created_at)))

    def last_finished(self, source_id: int, status: str = "done") -> Job | None:
        return self.session.scalar(
            select(Job)
            .where(Job.source_id == source_id, Job.status == status)
            .order_by(Job.finished_at.desc())
            .limit(1)
        )

    def old_finished_ids(self, source_id: int, keep: int) -> list[str]:
        rows = self.session.scalars(
            select(Job.id)
            .where(Job.source_id == source_id, Job.active_key.is_(None))
            .order_by(Job.created_at.desc())
            .offset(keep)
        )
        return list(rows)

    def delete(self, job_ids: Sequence[str]) -> None:
        if job_ids:
            self.session.execute(delete(Job).where(Job.id.in_(list(job_ids))))


class CrawlPageRepository:
    """A crawl job's frontier (pending) and per-page outcome log (done)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def insert_pending(self, rows: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 500):
            statement = _insert(self.session, CrawlPage).on_conflict_do_nothing(
                index_elements=["job_id", "url_key"]
            )
            self.session.execute(statement, list(rows[start : start + 500]))

    def complete(self, rows: Sequence[dict[str, Any]]) -> None:
        """Record outcomes (insert or update by job and URL key)."""
        if not rows:
            return
        statement = _insert(self.session, CrawlPage)
        updated = {
            name: getattr(statement.excluded, name)
            for name in rows[0]
            if name not in ("job_id", "url_key", "tenant_id", "source_id", "depth", "via")
        }
        statement = statement.on_conflict_do_update(index_elements=["job_id", "url_key"], set_=updated)
        self.session.execute(statement, list(rows))

    def for_job(self, job_id: str) -> Sequence[CrawlPage]:
        return self.session.scalars(select(CrawlPage).where(CrawlPage.job_id == job_id)).all()

    def outcomes(
        self, job_id: str, outcome: str | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[CrawlPage]:
        query = select(CrawlPage).where(CrawlPage.job_id == job_id, CrawlPage.state == "done")
        if outcome is not None:
            query = query.where(CrawlPage.outcome == outcome)
        return self.session.scalars(
            query.order_by(CrawlPage.updated_at, CrawlPage.id).offset(offset).limit(limit)
        ).all()

    def outcome_counts(self, job_id: str) -> dict[str, int]:
        rows = self.session.execute(
            select(CrawlPage.outcome, func.count())
            .where(CrawlPage.job_id == job_id, CrawlPage.state == "done")
            .group_by(CrawlPage.outcome)
        )
        return {str(outcome): int(count) for outcome, count in rows}

    def links_of_job(self, job_id: str) -> dict[str, list[str]]:
        rows = self.session.execute(
            select(CrawlPage.url_key, CrawlPage.links).where(
                CrawlPage.job_id == job_id, CrawlPage.links.is_not(None)
            )
        )
        return {key: list(links or []) for key, links in rows}


class UnitVectorRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, keys: Sequence[str]) -> dict[str, bytes]:
        rows = self.session.execute(select(UnitVector.key, UnitVector.vector).where(UnitVector.key.in_(keys)))
        return {key: vector for key, vector in rows}

    def add_new(self, vectors: dict[str, tuple[bytes, str]]) -> None:
        """Store the vectors (with the id of the chunk each was embedded for) not stored yet: another
        process may have stored some meanwhile."""
        known = set(self.get(list(vectors)))
        self.session.add_all(
            UnitVector(key=key, vector=vector, chunk_id=chunk_id)
            for key, (vector, chunk_id) in vectors.items()
            if key not in known
        )
