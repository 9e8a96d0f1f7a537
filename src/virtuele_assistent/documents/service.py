"""Browsing a municipality's indexed pages and files: search by title or address, and one page's
passages as the assistant sees them (heading path, language, dates); taking a page or one passage
out of the answers, and putting it back. Used by the portal and the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, StrictBool
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from virtuele_assistent.index.store import VectorStore
from virtuele_assistent.storage.db import Database, contains_pattern
from virtuele_assistent.storage.models import Chunk, Document, as_utc
from virtuele_assistent.storage.repositories import AuditLog

PAGE_SIZE = 50


class DocumentOut(BaseModel):
    id: int
    url: str
    title: str
    language: str | None
    content_type: str | None
    chunks: int
    excluded: bool  # staff took the whole page out of the answers
    fetched_at: datetime | None
    changed_at: datetime | None


class ChunkOut(BaseModel):
    position: int
    heading_path: str
    text: str
    token_count: int
    excluded: bool  # staff took this passage out of the answers


class DocumentDetail(DocumentOut):
    passages: list[ChunkOut]


class DocumentNotFound(LookupError):
    pass


def find_documents(
    db: Database, tenant_id: int, query: str = "", offset: int = 0
) -> tuple[list[DocumentOut], int]:
    """The municipality's indexed documents whose title or address contains ``query``, by address;
    one page of them and how many there are in all."""
    counts = select(Chunk.document_id, func.count().label("n")).group_by(Chunk.document_id).subquery()
    where = [Document.tenant_id == tenant_id, Document.status == "active"]
    if query.strip():
        like = contains_pattern(query.strip())
        where.append(or_(Document.title.ilike(like, escape="\\"), Document.url.ilike(like, escape="\\")))
    with db.session() as session:
        total = int(session.scalar(select(func.count()).select_from(Document).where(*where)) or 0)
        rows = session.execute(
            select(Document, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.document_id == Document.id)
            .where(*where)
            .order_by(Document.url)
            .offset(offset)
            .limit(PAGE_SIZE)
        ).all()
        return [_out(document, int(n)) for document, n in rows], total


def _out(document: Document, chunks: int) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        url=document.url,
        title=document.title,
        language=document.language,
        content_type=document.content_type,
        chunks=chunks,
        excluded=document.excluded,
        fetched_at=as_utc(document.fetched_at) if document.fetched_at else None,
        changed_at=as_utc(document.changed_at) if document.changed_at else None,
    )


def document_detail(db: Database, tenant_id: int, document_id: int) -> DocumentDetail:
    with db.session() as session:
        document = session.scalar(
            select(Document).where(
                Document.tenant_id == tenant_id, Document.id == document_id, Document.status == "active"
            )
        )
        if document is None:
            raise DocumentNotFound(document_id)
        passages = [
            ChunkOut(
                position=c.position,
                heading_path=c.heading_path,
                text=c.text,
                token_count=c.token_count,
                excluded=c.excluded,
            )
            for c in document.chunks
        ]
        return DocumentDetail(**_out(document, len(passages)).model_dump(), passages=passages)


class PassageNotFound(LookupError):
    pass


class Exclusion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    excluded: StrictBool  # true: out of the answers; false: back in


def _active(session: Session, tenant_id: int, document_id: int) -> Document:
    document = session.scalar(
        select(Document).where(
            Document.tenant_id == tenant_id, Document.id == document_id, Document.status == "active"
        )
    )
    if document is None:
        raise DocumentNotFound(document_id)
    return document


def _sync_points(store: VectorStore, document: Document) -> None:
    """The points carry what the rows say: out of the answers when the page or the passage is."""
    out = [c.id for c in document.chunks if document.excluded or c.excluded]
    back = [c.id for c in document.chunks if not (document.excluded or c.excluded)]
    store.set_excluded(out, True)
    store.set_excluded(back, False)


def set_document_excluded(
    db: Database, store: VectorStore, tenant_id: int, document_id: int, excluded: bool, actor: str
) -> DocumentDetail:
    """Take the page out of the answers (it stays indexed, and stays out when it changes), or put it
    back (a passage taken out on its own stays out). In the audit log."""
    with db.session() as session:
        document = _active(session, tenant_id, document_id)
        if document.excluded != excluded:
            document.excluded = excluded
            _sync_points(store, document)
            AuditLog(session).record(
                tenant_id,
                actor,
                "document.exclude" if excluded else "document.include",
                "document",
                str(document_id),
                {"url": document.url},
            )
    return document_detail(db, tenant_id, document_id)


def set_passage_excluded(
    db: Database,
    store: VectorStore,
    tenant_id: int,
    document_id: int,
    position: int,
    excluded: bool,
    actor: str,
) -> DocumentDetail:
    """Take one passage of the page out of the answers, or put it back; it stays so while its text is
    the same. In the audit log."""
    with db.session() as session:
        document = _active(session, tenant_id, document_id)
        chunk = next((c for c in document.chunks if c.position == position), None)
        if chunk is None:
            raise PassageNotFound(position)
        if chunk.excluded != excluded:
            chunk.excluded = excluded
            _sync_points(store, document)
            AuditLog(session).record(
                tenant_id,
                actor,
                "passage.exclude" if excluded else "passage.include",
                "document",
                str(document_id),
                {"url": document.url, "passage": position + 1, "heading": chunk.heading_path},
            )
    return document_detail(db, tenant_id, document_id)
