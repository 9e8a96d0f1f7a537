"""Workers: run queued jobs, queue scheduled crawls, take over jobs of workers that died.

Two queues, chosen by configuration:
- in-process (embedded profile, no Redis): an asyncio queue fed by this process (API, CLI)
  and by a periodic look at the jobs table, so jobs queued by other processes run too;
- Redis (``VA_REDIS_URL`` set): arq. Every worker process on every machine takes jobs from the
  same Redis list. arq may deliver a job twice (after a crash, or when two schedulers queue
  the same job); the lease in the jobs table makes sure only one worker runs it at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from datetime import timedelta
from typing import Any

import structlog

from virtuele_assistent.jobs.runner import JobRunner, new_worker_id
from virtuele_assistent.jobs.scheduler import enqueue_due, run_maintenance
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings
from virtuele_assistent.storage.models import Job, utcnow
from virtuele_assistent.storage.repositories import JobRepository

log = structlog.get_logger(__name__)
ARQ_FUNCTION = "run_job"
JOB_TIMEOUT_S = 24 * 3600


def queue_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}:jobs"


def runnable_jobs(services: Services) -> list[tuple[str, int]]:
    """(job id, attempts) of queued jobs and of running jobs whose lease ran out."""
    stale = utcnow() - timedelta(seconds=services.settings.job_lease_s)
    with services.db.session() as session:
        jobs = JobRepository(session)
        ids = jobs.runnable_ids(stale)
        return [(job_id, (session.get(Job, job_id) or Job(attempts=0)).attempts or 0) for job_id in ids]


# --- Redis (arq) -------------------------------------------------------------------------------
class RedisQueue:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def enqueue(self, job_id: str, attempt: int = 0, pool: Any = None) -> bool:
        from arq import create_pool
        from arq.connections import RedisSettings

        own = pool is None
        if own:
            pool = await create_pool(RedisSettings.from_dsn(self.settings.redis_url or ""))
        try:
            queued = await pool.enqueue_job(
                ARQ_FUNCTION,
                job_id,
                _job_id=f"{self.settings.redis_prefix}:{job_id}:{attempt}",
                _queue_name=queue_name(self.settings),
            )
            return queued is not None
        finally:
            if own:
                await pool.aclose()

    def submit(self, job_id: str) -> None:
        """From synchronous code (API handlers, CLI)."""
        asyncio.run(self.enqueue(job_id))


async def _arq_run_job(ctx: dict[str, Any], job_id: str) -> str | None:
    runner: JobRunner = ctx["runner"]
    return await runner.run(job_id)


async def _arq_startup(ctx: dict[str, Any]) -> None:
    services: Services = ctx["services"]
    queue = RedisQueue(services.settings)

    async def tick() -> None:
        while True:
            try:
                await asyncio.to_thread(enqueue_due, services.db)
                await asyncio.to_thread(run_maintenance, services.db, services.settings.retention_days)
                for job_id, attempts in await asyncio.to_thread(runnable_jobs, services):
                    await queue.enqueue(job_id, attempts, pool=ctx["redis"])
            except Exception:
                log.exception("worker.tick_failed")
            await asyncio.sleep(services.settings.worker_poll_s)

    ctx["ticker"] = asyncio.create_task(tick())


async def _arq_shutdown(ctx: dict[str, Any]) -> None:
    ticker = ctx.get("ticker")
    if ticker is not None:
        ticker.cancel()


def run_redis_worker(services: Services, concurrency: int = 1) -> None:
    """Block running an arq worker until SIGINT/SIGTERM."""
    from arq.connections import RedisSettings
    from arq.worker import Worker, func

    runner = JobRunner(services, new_worker_id())
    worker = Worker(
        functions=[func(_arq_run_job, name=ARQ_FUNCTION, timeout=JOB_TIMEOUT_S, max_tries=1000)],  # type: ignore[arg-type]
        queue_name=queue_name(services.settings),
        redis_settings=RedisSettings.from_dsn(services.settings.redis_url or ""),
        on_startup=_arq_startup,
        on_shutdown=_arq_shutdown,
        max_jobs=concurrency,
        keep_result=0,
        poll_delay=0.2,
        ctx={"services": services, "runner": runner},
        handle_signals=True,
    )
    log.info("worker.started", queue="redis", worker=runner.worker_id)
    worker.run()


# --- in-process --------------------------------------------------------------------------------
class InProcessWorker:
    """Runs jobs in this process: a thread with its own event loop (API server) or the caller's."""

    def __init__(self, services: Services, concurrency: int = 1) -> None:
        self.services = services
        self.runner = JobRunner(services, new_worker_id())
        self.concurrency = concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[str] | None = None
        self._waiting: set[str] = set()
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def submit(self, job_id: str) -> None:
        """Thread-safe: wake the worker for a job just queued."""
        if self._loop is not None and self._queue is not None:
            self._loop.call_soon_threadsafe(self._put, job_id)

    def _put(self, job_id: str) -> None:
        assert self._queue is not None
        if job_id not in self._waiting:
            self._waiting.add(job_id)
            self._queue.put_nowait(job_id)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._stop = asyncio.Event()
        log.info("worker.started", queue="in-process", worker=self.runner.worker_id)
        consumers = [asyncio.create_task(self._consume()) for _ in range(self.concurrency)]
        try:
            while not self._stop.is_set():
                try:
                    await asyncio.to_thread(enqueue_due, self.services.db)
                    await asyncio.to_thread(
                        run_maintenance, self.services.db, self.services.settings.retention_days
                    )
                    for job_id, _attempts in await asyncio.to_thread(runnable_jobs, self.services):
                        self._put(job_id)
                except Exception:
                    log.exception("worker.tick_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.services.settings.worker_poll_s)
        finally:
            for task in consumers:
                task.cancel()
            await asyncio.gather(*consumers, return_exceptions=True)

    async def _consume(self) -> None:
        assert self._queue is not None
        while True:
            job_id = await self._queue.get()
            try:
                await self.runner.run(job_id)
            except Exception:
                log.exception("worker.job_crashed", job_id=job_id)
            finally:
                self._waiting.discard(job_id)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    # in a background thread (the API server in the embedded profile)
    def start_thread(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self.run()), name="va-worker", daemon=True)
        self._thread.start()

    def stop_thread(self, timeout: float = 30.0) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)


def submit_job(services: Services, job_id: str, local: InProcessWorker | None = None) -> None:
    """Hand a freshly queued job to whoever runs jobs here: Redis workers, or this process."""
    if services.settings.redis_url:
        try:
            RedisQueue(services.settings).submit(job_id)
        except Exception:  # the workers' periodic look at the jobs table will find it
            log.warning("worker.enqueue_failed", job_id=job_id)
    elif local is not None:
        local.submit(job_id)
