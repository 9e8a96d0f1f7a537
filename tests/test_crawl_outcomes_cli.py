"""What a municipal IT person reads after a crawl: a table per outcome, the reason for every page not
indexed, a failing exit when nothing could be indexed, `va jobs list|show`, and a warning at
`va sources add` for an address the crawler may not reach."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import free_port
from tests.test_crawl_interrupted import PAGES, SlowSite
from virtuele_assistent.cli import app
from virtuele_assistent.cli_common import console, err
from virtuele_assistent.settings import get_settings

RUNNER = CliRunner()


@pytest.fixture
def data(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("VA_CRAWL_ALLOW_HOSTS", raising=False)
    monkeypatch.setattr(console, "width", 240)  # whole table cells, to read
    monkeypatch.setattr(err, "width", 240)
    assert RUNNER.invoke(app, ["tenants", "create", "traagstad", "Gemeente Traagstad"]).exit_code == 0
    return cli_env


def va(*args: str) -> tuple[int, str]:
    result = RUNNER.invoke(app, list(args))
    return result.exit_code, result.output


def test_a_site_the_crawler_may_not_reach_is_warned_about_and_its_crawl_fails_with_the_reason(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = f"http://127.0.0.1:{free_port()}/"
    code, out = va("sources", "add", "traagstad", "website", "--start-url", start)
    assert code == 0 and "Warning: 127.0.0.1 is a private or loopback address" in out
    assert "VA_CRAWL_ALLOW_HOSTS='[\"127.0.0.1\"]'" in out

    code, out = va("crawl", "traagstad", "website")
    assert code == 1, out
    assert "blocked" in out and "VA_CRAWL_ALLOW_HOSTS" in out and "Nothing could be indexed" in out

    monkeypatch.setenv("VA_CRAWL_ALLOW_HOSTS", '["127.0.0.1"]')
    monkeypatch.setenv("VA_CRAWL_RETRIES", "1")
    get_settings.cache_clear()
    code, out = va("crawl", "traagstad", "website")
    assert code == 1, out
    assert "failed" in out and "site onbereikbaar" in out and "blocked" not in out


def test_the_start_urls_host_is_crawled_whatever_the_allowed_hosts() -> None:
    from virtuele_assistent.crawl.config import SourceConfig

    config = SourceConfig(start_urls=["https://www.traagstad.nl/"], allowed_hosts=["loket.traagstad.nl"])
    assert config.allowed_hosts == ["loket.traagstad.nl"]  # stored as given
    assert config.url_wanted("https://www.traagstad.nl/paspoort") and config.url_wanted(
        "https://loket.traagstad.nl/a"
    )
    assert not config.url_wanted("https://www.elders.nl/")


def test_jobs_list_and_show_give_every_pages_outcome(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = SlowSite()
    try:
        monkeypatch.setenv("VA_CRAWL_ALLOW_HOSTS", '["127.0.0.1"]')
        get_settings.cache_clear()
        assert (
            va("sources", "add", "traagstad", "website", "--start-url", f"{site.base}/", "--rps", "0")[0] == 0
        )
        code, out = va("crawl", "traagstad", "website")
        assert code == 0, out
        assert "new" in out and "indexed for the first time" in out
        assert (
            "Pages not indexed" in out and "type application/octet-stream" in out
        )  # skipped, with its reason
    finally:
        site.close()
    code, out = va("jobs", "list", "traagstad")
    assert code == 0 and "done" in out and str(PAGES) in out
    from virtuele_assistent.jobs.service import list_jobs
    from virtuele_assistent.services import Services

    services = Services(get_settings())
    job_id = list_jobs(services.db, 1)[0].id
    services.close()
    code, out = va("jobs", "show", "traagstad", job_id)
    assert code == 0 and out.count("onderwerp-") == PAGES and "skipped" in out
    code, out = va("jobs", "show", "traagstad", job_id, "--outcome", "new")
    assert code == 0 and out.count("onderwerp-") == PAGES and "afvalkalender" not in out.split("Pages (")[1]
    code, out = va("jobs", "show", "traagstad", "0" * 32)
    assert code == 1 and "va jobs list traagstad" in out
    code, out = va("jobs", "show", "traagstad", job_id, "--outcome", "weg")
    assert code == 2 and "Unknown outcome" in out
