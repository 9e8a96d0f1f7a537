"""The Redis-backed queue with real worker processes: sharing, leases, kill -9 and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from tests.conftest import POSTGRES_URL, REDIS_URL, make_settings
from tests.crawl_site import TestSite
from virtuele_assistent.crawl.sources import SourceCreate, create_source
from virtuele_assistent.jobs.service import create_crawl_job, get_job
from virtuele_assistent.jobs.worker import RedisQueue
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings
from virtuele_assistent.storage.models import Chunk, CrawlPage, Document, utcnow
from virtuele_assistent.storage.repositories import JobRepository
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant

pytestmark = pytest.mark.redis
PAGES = 30


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def prod_settings(tmp_path: Path, postgres_schema: str) -> Iterator[Settings]:
    if not redis_available():
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    prefix = f"va-test-{uuid.uuid4().hex[:10]}"
    yield make_settings(
        tmp_path,
        database_url=POSTGRES_URL,
        database_schema=postgres_schema,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        crawl_allow_hosts=["127.0.0.1"],
        job_lease_s=3.0,
        worker_poll_s=0.5,
    )
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
    env.update(
        VA_DATABASE_URL=settings.database_url or "",
        VA_DATABASE_SCHEMA=settings.database_schema or "",
        VA_REDIS_URL=settings.redis_url or "",
        VA_REDIS_PREFIX=settings.redis_prefix,
        VA_DATA_DIR=str(settings.data_dir),
        VA_CRAWL_ALLOW_HOSTS='["127.0.0.1"]',
        VA_JOB_LEASE_S=str(settings.job_lease_s),
        VA_WORKER_POLL_S=str(settings.worker_poll_s),
        VA_ADMIN_TOKEN="test-admin-token-123",
    )
    return env


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    va = Path(sys.executable).parent / "va"
    return subprocess.Popen(
        [str(va), "worker"], env=worker_env(settings), stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_worker_is_taken_over_without_lost_or_duplicated_documents(
    prod_settings: Settings, tmp_path: Path
) -> None:
    services = Services(prod_settings)
    services.db.upgrade()
    workers: list[subprocess.Popen[bytes]] = []
    with TestSite() as site:
        site.pages = {"/robots.txt": ("text/plain", b"")}
        for n in range(PAGES):
            links = [f"/pagina-{m}.html" for m in (n + 1, n + 2) if m < PAGES]
            site.html(
                f"/pagina-{n}.html",
                f"Onderwerp {n}",
                f"<p>Dit is pagina {n} van de gemeente Teststad over regeling nummer {n}.</p>",
                links,
            )
        tenant = create_tenant(services.db, TenantCreate(slug="teststad", name="Gemeente Teststad"))
        from virtuele_assistent.tenants.service import get_profile

        tenant_id = get_profile(services.db, tenant.slug).id
        source = create_source(
            services.db,
            tenant_id,
            SourceCreate(
                name="website", start_urls=[site.base + "/pagina-0.html"], requests_per_second=4, max_depth=30
            ),
            actor="test",
        )
        try:
            workers = [start_worker(prod_settings, tmp_path / f"worker-{i}.log") for i in range(2)]
            job, _ = create_crawl_job(services.db, tenant_id, source.id, trigger="test")
            RedisQueue(prod_settings).submit(job.id)

            def done_pages() -> int:
                with services.db.session() as session:
                    return session.query(CrawlPage).filter_by(job_id=job.id, state="done").count()

            wait(lambda: done_pages() >= 8, 120, "the first pages")
            first = get_job(services.db, tenant_id, job.id)
            assert first.status == "running"
            with services.db.session() as session:
                owner = JobRepository(session).get(job.id).worker_id  # type: ignore[union-attr]
            victim = next(w for w in workers if f":{w.pid}:" in (owner or ""))
            survivor = next(w for w in workers if w is not victim)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(10)
            killed_at = done_pages()
            assert killed_at < PAGES, "the crawl finished before the worker was killed"

            wait(lambda: get_job(services.db, tenant_id, job.id).status == "done", 180, "the resumed crawl")
            final = get_job(services.db, tenant_id, job.id)
            assert final.attempts == 2
            with services.db.session() as session:
                assert f":{survivor.pid}:" in (JobRepository(session).get(job.id).worker_id or "")  # type: ignore[union-attr]
                pages = session.query(CrawlPage).filter_by(job_id=job.id).all()
                documents = session.query(Document).filter_by(tenant_id=tenant_id, status="active").all()
                chunk_ids = {c.id for c in session.query(Chunk).filter_by(tenant_id=tenant_id)}
            assert sorted(p.state for p in pages) == ["done"] * PAGES
            assert {p.outcome for p in pages} <= {"new", "unchanged"}
            assert sorted(d.url for d in documents) == sorted(
                f"{site.base}/pagina-{n}.html" for n in range(PAGES)
            )
            # Every page was fetched at most once more than needed (the batch in flight at the kill).
            assert all(site.requests[f"/pagina-{n}.html"] <= 2 for n in range(PAGES))
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
                    try:
                        worker.wait(20)
                    except subprocess.TimeoutExpired:
                        worker.kill()
    # The vector store holds exactly the chunks the database knows: nothing orphaned or doubled.
    from qdrant_client import models

    store = services.store
    count = store.client.count(
        store.collection,
        count_filter=models.Filter(
            must=[models.FieldCondition(key="tenant_id", match=models.MatchValue(value=tenant_id))]
        ),
    ).count
    assert count == len(chunk_ids)
    services.close()


def test_only_one_worker_claims_a_job(prod_settings: Settings) -> None:
    services = Services(prod_settings)
    services.db.upgrade()
    create_tenant(services.db, TenantCreate(slug="teststad", name="Gemeente Teststad"))
    from virtuele_assistent.tenants.service import get_profile

    tenant_id = get_profile(services.db, "teststad").id
    source = create_source(
        services.db,
        tenant_id,
        SourceCreate(name="website", start_urls=["https://www.teststad.nl/"]),
        actor="t",
    )
    job, created = create_crawl_job(services.db, tenant_id, source.id, trigger="test")
    again, created_again = create_crawl_job(services.db, tenant_id, source.id, trigger="webhook")
    assert created and not created_again and again.id == job.id
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def claim(n: int) -> None:
        barrier.wait()
        with services.db.session() as session:
            results.append(JobRepository(session).claim(job.id, f"w{n}", utcnow() - timedelta(seconds=3)))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    # A fresh lease is not taken over; a stale one is.
    with services.db.session() as session:
        assert not JobRepository(session).claim(job.id, "late", utcnow() - timedelta(seconds=3))
        assert JobRepository(session).claim(job.id, "late", utcnow() + timedelta(seconds=1))
    # A stopped worker gives its job back: only its own, and the next claims it at once.
    with services.db.session() as session:
        jobs = JobRepository(session)
        assert not jobs.release(job.id, "w0-not-the-owner", {"fetched": 2})
        assert jobs.release(job.id, "late", {"fetched": 2})
    with services.db.session() as session:
        released = JobRepository(session).get(job.id)
        assert released is not None and released.status == "queued" and released.worker_id is None
        assert released.progress == {"fetched": 2, "interrupted": True}
        assert JobRepository(session).claim(job.id, "next", utcnow() - timedelta(seconds=3))
    services.close()
