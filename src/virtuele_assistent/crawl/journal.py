"""The crawl's memory in the database: frontier, per-page outcomes and what is known per document.

Writes are buffered and flushed together (one transaction per batch), so a crawl of a thousand
pages costs a few dozen commits. A crash loses at most the last batch: those pages are fetched
again on resume and come out unchanged, so nothing is lost or stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from virtuele_assistent.crawl.urls import url_key
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import utcnow
from virtuele_assistent.storage.repositories import CrawlPageRepository, DocumentRepository, JobRepository

RAW_HASH = "raw_sha256"


@dataclass
class KnownPage:
    url: str
    etag: str | None
    last_modified: str | None
    raw_hash: str | None
    fetched_at: datetime | None


@dataclass
class JournalRow:
    url_key: str
    url: str
    depth: int
    via: str
    state: str
    outcome: str | None
    document_url: str | None


class CrawlJournal:
    def __init__(self, db: Database, job_id: str, tenant_id: int, source_id: int | None) -> None:
        self.db = db
        self.job_id = job_id
        self.tenant_id = tenant_id
        self.source_id = source_id
        self._pending: list[dict[str, Any]] = []
        self._done: list[dict[str, Any]] = []

    # reading ------------------------------------------------------------------------------------
    def load(self) -> list[JournalRow]:
        with self.db.session() as session:
            return [
                JournalRow(r.url_key, r.url, r.depth, r.via, r.state, r.outcome, r.document_url)
                for r in CrawlPageRepository(session).for_job(self.job_id)
            ]

    def known_pages(self) -> dict[str, KnownPage]:
        """Active documents of this source, by URL key: validators for conditional GET."""
        with self.db.session() as session:
            documents = DocumentRepository(session).list_active(self.tenant_id, self.source_id)
            return {
                url_key(d.url): KnownPage(
                    d.url, d.etag, d.last_modified, (d.meta or {}).get(RAW_HASH), d.fetched_at
                )
                for d in documents
            }

    def previous_links(self) -> dict[str, list[str]]:
        """Links found on each page by the last finished crawl (for pages that answer 304)."""
        if self.source_id is None:
            return {}
        with self.db.session() as session:
            last = JobRepository(session).last_finished(self.source_id)
            return CrawlPageRepository(session).links_of_job(last.id) if last else {}

    # buffered writes ----------------------------------------------------------------------------
    def add_pending(self, key: str, url: str, depth: int, via: str) -> None:
        self._pending.append(
            {
                "job_id": self.job_id,
                "tenant_id": self.tenant_id,
                "source_id": self.source_id,
                "url_key": key,
                "url": url[:2048],
                "depth": depth,
                "via": via,
                "state": "pending",
                "updated_at": utcnow(),
            }
        )

    def add_done(
        self,
        key: str,
        url: str,
        depth: int,
        via: str,
        outcome: str,
        *,
        document_url: str | None = None,
        http_status: int | None = None,
        detail: str | None = None,
        content_type: str | None = None,
        size: int | None = None,
        elapsed_ms: int | None = None,
        links: list[str] | None = None,
    ) -> None:
        self._done.append(
            {
                "job_id": self.job_id,
                "tenant_id": self.tenant_id,
                "source_id": self.source_id,
                "url_key": key,
                "url": url[:2048],
                "depth": depth,
                "via": via,
                "state": "done",
                "outcome": outcome,
                "document_url": document_url[:2048] if document_url else None,
                "http_status": http_status,
                "detail": detail[:500] if detail else None,
                "content_type": content_type[:100] if content_type else None,
                "size": size,
                "elapsed_ms": elapsed_ms,
                "links": links,
                "updated_at": utcnow(),
            }
        )

    @property
    def buffered(self) -> int:
        return len(self._pending) + len(self._done)

    def take(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Hand over the buffered rows (on the event loop), to be written with ``write`` elsewhere."""
        pending, done = self._pending, self._done
        self._pending, self._done = [], []
        return pending, done

    def write(self, pending: list[dict[str, Any]], done: list[dict[str, Any]]) -> None:
        if not pending and not done:
            return
        with self.db.session() as session:
            pages = CrawlPageRepository(session)
            pages.insert_pending(pending)
            pages.complete(done)

    # documents ----------------------------------------------------------------------------------
    def mark_seen(self, url: str, raw_hash: str | None = None) -> None:
        """The page is still there (304, same bytes, or just indexed): reset its misses."""
        with self.db.session() as session:
            document = DocumentRepository(session).get_by_url(self.tenant_id, url)
            if document is None:
                return
            document.fetched_at = utcnow()
            document.miss_count = 0
            if raw_hash is not None and (document.meta or {}).get(RAW_HASH) != raw_hash:
                document.meta = {**(document.meta or {}), RAW_HASH: raw_hash}

    def add_miss(self, url: str) -> int:
        """Count one more crawl in which the page was missing; returns the new count."""
        with self.db.session() as session:
            document = DocumentRepository(session).get_by_url(self.tenant_id, url)
            if document is None or document.status != "active":
                return 0
            document.miss_count = (document.miss_count or 0) + 1
            return int(document.miss_count)
