"""Scheduled crawls: a source whose schedule is due gets a queued crawl job (at most one active)."""

from __future__ import annotations

from datetime import datetime

import structlog

from virtuele_assistent.crawl.config import SourceConfig, next_run
from virtuele_assistent.jobs.service import create_crawl_job
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import as_utc, utcnow
from virtuele_assistent.storage.repositories import JobRepository, SourceRepository

log = structlog.get_logger(__name__)


def due_sources(db: Database, now: datetime | None = None) -> list[tuple[int, int]]:
    """(tenant_id, source_id) of enabled sources whose next scheduled crawl has come."""
    now = now or utcnow()
    due = []
    with db.session() as session:
        jobs = JobRepository(session)
        for source in SourceRepository(session).enabled("website"):
            schedule = (source.config or {}).get("schedule")
            if not schedule:
                continue
            last = jobs.last_finished(source.id)
            reference = as_utc(last.created_at if last else (source.last_crawl_at or source.created_at))
            if next_run(SourceConfig.model_validate(source.config).schedule or schedule, reference) <= now:
                due.append((source.tenant_id, source.id))
    return due


_MAINTENANCE_EVERY_S = 3600.0
_last_maintenance: dict[str, datetime] = {}


def run_maintenance(db: Database, retention_days: int, now: datetime | None = None) -> bool:
    """Housekeeping with the scheduler tick, at most hourly: conversation retention (AVG), and what
    is kept of ended conversations' texts per municipality."""
    from virtuele_assistent.conversations.retention import purge_expired
    from virtuele_assistent.conversations.transcripts import apply_transcript_modes

    now = now or utcnow()
    last = _last_maintenance.get(f"{db.url}|{db.schema}")
    if last is not None and (now - last).total_seconds() < _MAINTENANCE_EVERY_S:
        return False
    _last_maintenance[f"{db.url}|{db.schema}"] = now
    purge_expired(db, retention_days, now)
    apply_transcript_modes(db, now)
    return True


def enqueue_due(db: Database, now: datetime | None = None) -> list[str]:
    """Queue crawls for due sources; returns the ids of jobs created now."""
    created = []
    for tenant_id, source_id in due_sources(db, now):
        job, new = create_crawl_job(db, tenant_id, source_id, trigger="schedule", actor="scheduler")
        if new:
            log.info("schedule.queued", job_id=job.id, tenant_id=tenant_id, source_id=source_id)
            created.append(job.id)
    return created
