"""Runs one job: claim its lease, crawl (or index local files) with heartbeats, record the result.

The lease is the job row itself: ``worker_id`` + ``heartbeat_at``. A worker that stops sending
heartbeats (killed, machine gone) loses the job after ``job_lease_s``; the next worker claims it
and the crawler continues from the journal. A heartbeat that finds the job cancelled, or owned
by someone else, stops the crawl.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog

from virtuele_assistent.crawl.config import SourceConfig
from virtuele_assistent.crawl.crawler import Crawler
from virtuele_assistent.crawl.journal import CrawlJournal
from virtuele_assistent.crawl.sink import IndexSink
from virtuele_assistent.jobs.service import INGEST
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import Job, utcnow
from virtuele_assistent.storage.repositories import JobRepository, SourceRepository

log = structlog.get_logger(__name__)
KEEP_JOBS_PER_SOURCE = 20


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobRunner:
    def __init__(self, services: Services, worker_id: str | None = None) -> None:
        self.services = services
        self.worker_id = worker_id or new_worker_id()

    def _stale_before(self) -> Any:
        return utcnow() - timedelta(seconds=self.services.settings.job_lease_s)

    def _claim(self, job_id: str) -> tuple[Job, SourceConfig | None, str | None] | None:
        with self.services.db.session() as session:
            jobs = JobRepository(session)
            if not jobs.claim(job_id, self.worker_id, self._stale_before()):
                return None
            job = jobs.get(job_id)
            assert job is not None
            if job.kind == INGEST:
                return job, None, None
            source = SourceRepository(session).get(job.tenant_id or 0, job.source_id or 0)
            if source is None:
                return job, None, "de bron bestaat niet meer"
            if not source.enabled:
                return job, None, "de bron staat uit"
            return job, SourceConfig.model_validate(source.config), None

    async def run(
        self, job_id: str, on_progress: Callable[[dict[str, Any]], None] | None = None
    ) -> str | None:
        """Run the job if it can be claimed; returns its final status, or None if not ours."""
        claimed = await asyncio.to_thread(self._claim, job_id)
        if claimed is None:
            return None
        job, config, problem = claimed
        bound = log.bind(
            job_id=job_id, tenant_id=job.tenant_id, source_id=job.source_id, worker=self.worker_id
        )
        if job.kind == INGEST:
            return await self._ingest(job, bound)
        if config is None:
            await asyncio.to_thread(self._finish, job_id, "failed", {}, problem)
            return "failed"
        bound.info("job.started", attempt=job.attempts)
        settings = self.services.settings
        try:
            indexer = await asyncio.to_thread(lambda: self.services.indexer)
            assert job.tenant_id is not None
            crawler = Crawler(
                settings,
                config,
                IndexSink(indexer, job.tenant_id, job.source_id),
                CrawlJournal(self.services.db, job_id, job.tenant_id, job.source_id),
                on_progress=on_progress,
            )
        except Exception as error:
            bound.exception("job.setup_failed")
            await asyncio.to_thread(self._finish, job_id, "failed", {}, f"{type(error).__name__}: {error}")
            return "failed"
        lost = asyncio.Event()
        heartbeat = asyncio.create_task(
            self._heartbeats(job_id, lambda: crawler.progress, crawler.stop, lost)
        )
        try:
            report = await crawler.run()
        except asyncio.CancelledError:  # Ctrl-C or SIGTERM: the job goes back at once, to resume
            heartbeat.cancel()
            self._release(job_id, crawler.progress)
            bound.info("job.interrupted")
            raise
        except Exception as error:
            bound.exception("job.failed")
            heartbeat.cancel()
            await asyncio.to_thread(
                self._finish, job_id, "failed", crawler.progress, f"{type(error).__name__}: {error}"
            )
            return "failed"
        finally:
            heartbeat.cancel()
        if lost.is_set():
            bound.info("job.stopped", reason="cancelled or taken over")
            return await asyncio.to_thread(self._status, job_id)
        progress = {**crawler.progress, "swept": report.swept}
        await asyncio.to_thread(self._finish, job_id, report.status, progress, None, job.source_id)
        bound.info("job.finished", status=report.status, elapsed_s=round(report.elapsed_s, 2))
        return report.status

    async def _ingest(self, job: Job, bound: Any) -> str:
        """Index the local files of an ingest job (handed over by `va ingest` while this process holds
        the data folder); its progress keeps the counts and every file not indexed with its reason."""
        bound.info("job.started", attempt=job.attempts)
        payload = job.payload or {}
        lost = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeats(job.id, dict, lambda: None, lost))
        try:
            summary = await asyncio.to_thread(
                self.services.indexer.ingest_path,
                job.tenant_id or 0,
                Path(payload["path"]),
                payload.get("base_url"),
            )
        except Exception as error:
            bound.exception("job.failed")
            await asyncio.to_thread(self._finish, job.id, "failed", {}, f"{type(error).__name__}: {error}")
            return "failed"
        finally:
            heartbeat.cancel()
        progress = {"outcomes": summary.counts, "problems": summary.problems()}
        await asyncio.to_thread(self._finish, job.id, "done", progress, None)
        bound.info("job.finished", status="done", **summary.counts)
        return "done"

    async def _heartbeats(
        self,
        job_id: str,
        progress: Callable[[], dict[str, Any]],
        stop: Callable[[], None],
        lost: asyncio.Event,
    ) -> None:
        interval = max(0.2, self.services.settings.job_lease_s / 4)
        while True:
            await asyncio.sleep(interval)
            try:
                alive = await asyncio.to_thread(self._beat, job_id, progress())
            except Exception:  # database hiccup: try again next beat, the lease still holds
                log.warning("job.heartbeat_failed", job_id=job_id)
                continue
            if not alive:
                lost.set()
                stop()
                return

    def _beat(self, job_id: str, progress: dict[str, Any]) -> bool:
        with self.services.db.session() as session:
            return JobRepository(session).heartbeat(job_id, self.worker_id, progress)

    def _release(self, job_id: str, progress: dict[str, Any]) -> None:
        with self.services.db.session() as session:
            JobRepository(session).release(job_id, self.worker_id, progress)

    def _status(self, job_id: str) -> str | None:
        with self.services.db.session() as session:
            job = JobRepository(session).get(job_id)
            return job.status if job else None

    def _finish(
        self,
        job_id: str,
        status: str,
        progress: dict[str, Any],
        error: str | None,
        source_id: int | None = None,
    ) -> None:
        with self.services.db.session() as session:
            jobs = JobRepository(session)
            jobs.finish(job_id, self.worker_id, status, progress, error)
            if source_id is not None and status == "done":
                job = jobs.get(job_id)
                source = SourceRepository(session).get(job.tenant_id or 0, source_id) if job else None
                if source is not None:
                    source.last_crawl_at = utcnow()
                jobs.delete(jobs.old_finished_ids(source_id, KEEP_JOBS_PER_SOURCE))
