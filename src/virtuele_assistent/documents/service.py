"""Browsing a municipality's indexed pages and files: search by title or address, and one page's
passages as the assistant sees them (heading path, language, dates). Used by the portal and the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, or_, select

from virtuele_assistent.storage.db import Database, contains_pattern
from virtuele_assistent.storage.models import Chunk, Document, as_utc

PAGE_SIZE = 50


class DocumentOut(BaseModel):
    id: int
    url: str
    title: str
    language: str | None
    content_type: str | None
    chunks: int
    fetched_at: datetime | None
    changed_at: datetime | None


class ChunkOut(BaseModel):
    position: int
    heading_path: str
    text: str
    token_count: int


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
            ChunkOut(position=c.position, heading_path=c.heading_path, text=c.text, token_count=c.token_count)
            for c in document.chunks
        ]
        return DocumentDetail(**_out(document, len(passages)).model_dump(), passages=passages)
