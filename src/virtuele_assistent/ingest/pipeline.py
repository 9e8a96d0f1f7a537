"""The indexer: keeps a tenant's documents, chunks and vectors in step, one document at a time.

Re-indexing replaces a document's chunks as one unit: new vectors are written first, the SQL rows
are swapped in one transaction, then the old vectors are deleted. If anything fails on the way
(embedding, vector store, database), the new vectors are removed again and the previous version
stays searchable: nothing is half-indexed. Text is never embedded twice: a chunk whose content hash
is already indexed (in this document or any other) reuses the stored vector.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import structlog

from virtuele_assistent.chunking import ChunkDraft, chunk_document
from virtuele_assistent.extract import ExtractionError, extract
from virtuele_assistent.index.analyzer import DutchAnalyzer
from virtuele_assistent.index.embedder import Embedder
from virtuele_assistent.index.store import EXCLUDED, IndexedChunk, VectorStore
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import Chunk, Document, utcnow
from virtuele_assistent.storage.repositories import DocumentRepository

log = structlog.get_logger(__name__)

INGESTIBLE_SUFFIXES = (".html", ".htm", ".md", ".markdown", ".pdf", ".docx")
SUPPORTED = "HTML, Markdown, PDF, DOCX"


@dataclass
class IngestOutcome:
    url: str
    status: str  # new | changed | unchanged | skipped | failed | removed
    reason: str | None = None
    chunks: int = 0
    embedded: int = 0


@dataclass
class IngestSummary:
    outcomes: list[IngestOutcome] = field(default_factory=list)

    def add(self, outcome: IngestOutcome) -> None:
        self.outcomes.append(outcome)

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(o.status for o in self.outcomes)
        counts["chunks_embedded"] = sum(o.embedded for o in self.outcomes)
        return dict(counts)

    def problems(self, limit: int = 200) -> list[dict[str, str]]:
        """The files that could not be indexed, with their reason (the first ``limit``)."""
        return [
            {"url": o.url, "status": o.status, "reason": o.reason or ""}
            for o in self.outcomes
            if o.status in ("skipped", "failed")
        ][:limit]


def chunk_id(tenant_id: int, url: str, position: int, content_hash: str) -> str:
    """Deterministic chunk (and vector point) id: indexing the same text again, e.g. after a
    worker was killed between writing vectors and committing, overwrites instead of orphaning."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}|{url}|{position}|{content_hash}").hex


class _Vectors(dict[str, "np.ndarray"]):
    def __init__(self) -> None:
        super().__init__()
        self.reused: set[str] = set()


class Indexer:
    def __init__(self, db: Database, store: VectorStore, embedder: Embedder, analyzer: DutchAnalyzer) -> None:
        self.db = db
        self.store = store
        self.embedder = embedder
        self.analyzer = analyzer

    def index_document(
        self,
        tenant_id: int,
        url: str,
        data: bytes,
        content_type: str | None = None,
        source_id: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> IngestOutcome:
        try:
            extracted = extract(data, url, content_type)
        except ExtractionError as error:
            # What the page says now cannot answer: an earlier version of it must not either.
            self.remove_document(tenant_id, url)
            log.info("ingest.skipped", url=url, reason=str(error), tenant_id=tenant_id)
            return IngestOutcome(url, "skipped", str(error))
        drafts = chunk_document(extracted)
        if not drafts:
            return IngestOutcome(url, "skipped", "geen tekst na het opdelen")
        text_hash = hashlib.sha256((extracted.title + "\n" + extracted.text).encode("utf-8")).hexdigest()

        with self.db.session() as session:
            documents = DocumentRepository(session)
            document = documents.get_by_url(tenant_id, url)
            now = utcnow()
            if (
                document is not None
                and document.content_hash == text_hash
                and document.status == "active"
                and self.store.has_all([c.id for c in document.chunks])
            ):
                document.fetched_at, document.etag, document.last_modified = now, etag, last_modified
                document.miss_count = 0
                return IngestOutcome(url, "unchanged", chunks=len(document.chunks))
            old_by_hash = {c.content_hash: c.id for c in document.chunks} if document is not None else {}
            # what staff took out of the answers stays out: the page, and each passage whose text is unchanged
            page_excluded = document is not None and document.excluded
            excluded_hashes = {c.content_hash for c in document.chunks if c.excluded} if document else set()
            previous_ids = {c.id for c in document.chunks} if document is not None else set()
            known = documents.chunk_ids_by_hash(
                [d.content_hash for d in drafts if d.content_hash not in old_by_hash]
            )
            status = "new" if document is None else "changed"

        vectors = self._vectors(drafts, {**known, **old_by_hash})
        embedded = sum(1 for d in drafts if d.content_hash not in vectors.reused)

        rows = [
            Chunk(
                id=chunk_id(tenant_id, url, d.position, d.content_hash),
                position=d.position,
                heading_path=d.heading_path,
                text=d.text,
                content_hash=d.content_hash,
                token_count=d.token_count,
                excluded=d.content_hash in excluded_hashes,
            )
            for d in drafts
        ]
        try:
            with self.db.session() as session:
                documents = DocumentRepository(session)
                document = documents.get_by_url(tenant_id, url) or documents.add(
                    Document(tenant_id=tenant_id, url=url, source_id=source_id)
                )
                points = [
                    IndexedChunk(
                        chunk_id=row.id,
                        tenant_id=tenant_id,
                        document_id=document.id,
                        dense=vectors[draft.content_hash],
                        sparse=self.analyzer.document_vector(draft.indexed_text),
                        payload={
                            "url": url,
                            "title": extracted.title,
                            "heading_path": draft.heading_path,
                            "text": draft.text,
                            "language": extracted.language,
                            "position": draft.position,
                            **({EXCLUDED: 1} if page_excluded or row.excluded else {}),
                        },
                    )
                    for row, draft in zip(rows, drafts, strict=True)
                ]
                self.store.upsert(points)
                old_ids = documents.replace_chunks(document, rows)
                document.title = extracted.title[:500]
                document.language = extracted.language
                document.content_type = content_type
                document.content_hash = text_hash
                document.etag, document.last_modified = etag, last_modified
                document.status, document.miss_count = "active", 0
                document.fetched_at = document.changed_at = utcnow()
                document.meta = (
                    {"source_last_modified": extracted.last_modified} if extracted.last_modified else {}
                )
                if source_id is not None:
                    document.source_id = source_id
                session.flush()
        except BaseException:
            # Nothing half-indexed: drop the new vectors; the previous version stays as it was.
            with contextlib.suppress(Exception):
                self.store.delete([row.id for row in rows if row.id not in previous_ids])
            raise
        new_ids = {row.id for row in rows}
        self.store.delete([i for i in old_ids if i not in new_ids])
        log.info(
            "ingest.indexed",
            url=url,
            status=status,
            chunks=len(rows),
            embedded=embedded,
            tenant_id=tenant_id,
        )
        return IngestOutcome(url, status, chunks=len(rows), embedded=embedded)

    def _vectors(self, drafts: list[ChunkDraft], known_ids: dict[str, str]) -> _Vectors:
        """Dense vectors by content hash: stored ones where the same text is indexed, else embedded."""
        stored = self.store.dense_vectors(
            list({known_ids[d.content_hash] for d in drafts if d.content_hash in known_ids})
        )
        vectors = _Vectors()
        for draft in drafts:
            chunk_id = known_ids.get(draft.content_hash)
            if chunk_id is not None and chunk_id in stored:
                vectors[draft.content_hash] = stored[chunk_id]
                vectors.reused.add(draft.content_hash)
        to_embed = list({d.content_hash: d for d in drafts if d.content_hash not in vectors}.values())
        fresh = self.embedder.embed_passages([d.indexed_text for d in to_embed])
        for i, draft in enumerate(to_embed):
            vectors[draft.content_hash] = fresh[i]
        return vectors

    def remove_document(self, tenant_id: int, url: str) -> IngestOutcome:
        with self.db.session() as session:
            document = DocumentRepository(session).get_by_url(tenant_id, url)
            if document is None or document.status == "removed":
                return IngestOutcome(url, "unchanged")
            chunk_ids = DocumentRepository(session).mark_removed(document)
        self.store.delete(chunk_ids)
        log.info("ingest.removed", url=url, tenant_id=tenant_id)
        return IngestOutcome(url, "removed")

    def ingest_path(self, tenant_id: int, path: Path, base_url: str | None = None) -> IngestSummary:
        """Index a local file or folder; documents of earlier runs that are gone are removed."""
        summary = IngestSummary()
        root = path if path.is_dir() else path.parent
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        seen: set[str] = set()
        prefix = (base_url.rstrip("/") + "/") if base_url else None
        for file in files:
            relative = file.relative_to(root).as_posix()
            url = prefix + relative if prefix else file.resolve().as_uri()
            if file.suffix.lower() not in INGESTIBLE_SUFFIXES:
                kind = file.suffix.lower() or "zonder extensie"
                summary.add(
                    IngestOutcome(url, "skipped", f"bestandstype {kind} wordt niet ondersteund ({SUPPORTED})")
                )
                continue
            seen.add(url)
            content_type = mimetypes.guess_type(file.name)[0]
            try:
                data = file.read_bytes()
            except OSError as error:
                summary.add(IngestOutcome(url, "skipped", f"niet leesbaar: {error}"))
                continue
            try:
                summary.add(self.index_document(tenant_id, url, data, content_type))
            except Exception as error:  # one broken file must not stop the others
                log.error("ingest.failed", url=url, tenant_id=tenant_id, error=repr(error))
                summary.add(IngestOutcome(url, "failed", f"fout bij indexeren: {type(error).__name__}"))
        if path.is_dir():
            with self.db.session() as session:
                stale = [
                    d.url
                    for d in DocumentRepository(session).list_active(tenant_id)
                    if d.url.startswith(prefix or root.resolve().as_uri()) and d.url not in seen
                ]
            for url in stale:
                summary.add(self.remove_document(tenant_id, url))
        return summary
