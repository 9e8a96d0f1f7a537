"""Crawl jobs in the database: create (one active per source), read, cancel, list outcomes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import Job, utcnow
from virtuele_assistent.storage.repositories import (
    AuditLog,
    CrawlPageRepository,
    JobRepository,
    SourceRepository,
)
from virtuele_assistent.validation import UtcDateTime

CRAWL = "crawl"
INGEST = "ingest"  # local files, indexed by the worker of the process that holds the data folder
STATUSES = ("queued", "running", "done", "failed", "cancelled")


class JobNotFound(LookupError):
    pass


class JobOut(BaseModel):
    id: str
    kind: str
    status: str
    source_id: int | None
    trigger: str | None
    progress: dict[str, Any]
    error: str | None
    attempts: int
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    heartbeat_at: UtcDateTime | None


class PageOut(BaseModel):
    url: str
    document_url: str | None
    outcome: str | None
    http_status: int | None
    detail: str | None
    content_type: str | None
    size: int | None
    elapsed_ms: int | None
    depth: int
    via: str
    at: UtcDateTime


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        source_id=job.source_id,
        trigger=(job.payload or {}).get("trigger"),
        progress=job.progress or {},
        error=job.error,
        attempts=job.attempts or 0,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        heartbeat_at=job.heartbeat_at,
    )


def crawl_key(source_id: int) -> str:
    return f"{CRAWL}:{source_id}"


def create_crawl_job(
    db: Database, tenant_id: int, source_id: int, trigger: str, actor: str = "system"
) -> tuple[JobOut, bool]:
    """Queue a crawl of the source; if one is queued or running already, return that one.

    Returns (job, created). The unique ``active_key`` makes this hold across processes.
    """
    try:
        with db.session() as session:
            if SourceRepository(session).get(tenant_id, source_id) is None:
                raise JobNotFound(f"source {source_id}")
            job = JobRepository(session).add(
                Job(
                    tenant_id=tenant_id,
                    source_id=source_id,
                    kind=CRAWL,
                    status="queued",
                    payload={"source_id": source_id, "trigger": trigger},
                    progress={},
                    active_key=crawl_key(source_id),
                )
            )
            AuditLog(session).record(tenant_id, actor, "crawl.start", "job", job.id, {"trigger": trigger})
            return job_out(job), True
    except IntegrityError:
        with db.session() as session:
            existing = JobRepository(session).active(crawl_key(source_id))
            if existing is None:  # finished in between: try once more
                return create_crawl_job(db, tenant_id, source_id, trigger, actor)
            return job_out(existing), False


def create_ingest_job(
    db: Database, tenant_id: int, path: str, base_url: str | None, actor: str = "system"
) -> JobOut:
    """Queue the indexing of a local file or folder (an absolute path on this machine)."""
    with db.session() as session:
        job = JobRepository(session).add(
            Job(
                tenant_id=tenant_id,
                kind=INGEST,
                status="queued",
                payload={"path": path, "base_url": base_url, "trigger": "cli"},
                progress={},
            )
        )
        AuditLog(session).record(tenant_id, actor, "ingest.start", "job", job.id, {"path": path})
        return job_out(job)


def get_job(db: Database, tenant_id: int, job_id: str) -> JobOut:
    with db.session() as session:
        job = JobRepository(session).get_for_tenant(tenant_id, job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job_out(job)


def list_jobs(
    db: Database, tenant_id: int, source_id: int | None = None, status: str | None = None, limit: int = 50
) -> list[JobOut]:
    with db.session() as session:
        return [job_out(j) for j in JobRepository(session).recent(tenant_id, source_id, status, limit)]


def cancel_job(db: Database, tenant_id: int, job_id: str, actor: str) -> tuple[JobOut, bool]:
    """Cancel a queued or running job (a running crawl stops at its next heartbeat)."""
    with db.session() as session:
        jobs = JobRepository(session)
        job = jobs.get_for_tenant(tenant_id, job_id)
        if job is None:
            raise JobNotFound(job_id)
        changed = jobs.cancel(job)
        if changed:
            AuditLog(session).record(tenant_id, actor, "crawl.cancel", "job", job_id)
        return job_out(job), changed


def job_pages(
    db: Database, tenant_id: int, job_id: str, outcome: str | None = None, limit: int = 100, offset: int = 0
) -> list[PageOut]:
    with db.session() as session:
        if JobRepository(session).get_for_tenant(tenant_id, job_id) is None:
            raise JobNotFound(job_id)
        return [
            PageOut(
                url=p.url,
                document_url=p.document_url,
                outcome=p.outcome,
                http_status=p.http_status,
                detail=p.detail,
                content_type=p.content_type,
                size=p.size,
                elapsed_ms=p.elapsed_ms,
                depth=p.depth,
                via=p.via,
                at=p.updated_at,
            )
            for p in CrawlPageRepository(session).outcomes(job_id, outcome, limit, offset)
        ]


def abandoned(job: JobOut, lease_s: float, poll_s: float, quiet_s: float) -> bool:
    """A job nobody runs: given back by a stopped crawl, queued with no worker taking it, or running
    with a heartbeat older than the lease."""
    if job.status == "queued":
        return bool(job.progress.get("interrupted")) or quiet_s > 2 * poll_s
    if job.status == "running":
        beat = job.heartbeat_at
        return beat is None or (utcnow() - beat).total_seconds() > lease_s
    return False
