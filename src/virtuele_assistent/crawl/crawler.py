"""The crawler: from start URLs and sitemaps, through the allowed pages, into the index.

Flow per URL: robots.txt -> per-host turn -> conditional GET -> (redirects, canonical) ->
same bytes as last time? -> extract + index (one worker thread, in order) -> follow links.
After a complete crawl, documents of the source that were not reached count a miss and are
removed from the index after ``remove_after_misses`` misses (404/410 count at once).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import structlog

from virtuele_assistent.crawl.config import SourceConfig
from virtuele_assistent.crawl.fetcher import Fetcher, FetchResult
from virtuele_assistent.crawl.journal import CrawlJournal, KnownPage
from virtuele_assistent.crawl.links import parse_links
from virtuele_assistent.crawl.sitemaps import SitemapError, parse_sitemap
from virtuele_assistent.crawl.urls import normalize, path_of, skip_by_suffix, trap_reason, url_key
from virtuele_assistent.settings import Settings
from virtuele_assistent.storage.models import as_utc

log = structlog.get_logger(__name__)
T = TypeVar("T")

MAX_SITEMAPS = 50
FLUSH_EVERY_S = 0.5
FLUSH_EVERY_ROWS = 200
# Outcomes that mean "the page is there": it does not count as missing.
PRESENT = frozenset({"new", "changed", "unchanged", "skipped", "duplicate", "noindex"})
MEDIA_KINDS = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
SUFFIX_KINDS = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html"}


class PageSink(Protocol):
    """Where fetched documents go (the indexer; the benchmark's extractor)."""

    def process(
        self, url: str, data: bytes, content_type: str | None, etag: str | None, last_modified: str | None
    ) -> tuple[str, str | None]:
        """Returns (status, reason): new | changed | unchanged | skipped."""
        ...

    def remove(self, url: str) -> bool: ...


@dataclass(order=True)
class _Item:
    depth: int
    seq: int
    url: str = field(compare=False)
    key: str = field(compare=False)
    via: str = field(compare=False)


@dataclass
class CrawlReport:
    status: str  # done | cancelled
    counts: dict[str, int]
    truncated: bool
    elapsed_s: float
    swept: bool


class Crawler:
    def __init__(
        self,
        settings: Settings,
        config: SourceConfig,
        sink: PageSink,
        journal: CrawlJournal,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        process_concurrency: int = 1,
    ) -> None:
        """``process_concurrency``: documents handed to the sink at once (1 for the Indexer)."""
        self.settings = settings
        self.config = config
        self.sink = sink
        self.journal = journal
        self.on_progress = on_progress
        self.counts: Counter[str] = Counter()
        self.keys: set[str] = set()  # every URL key in this job (pending or done)
        self.attempted: set[str] = set()  # keys (requested and document) with an outcome
        self.handled: set[str] = set()  # document keys processed in this job
        self.query_variants: Counter[str] = Counter()
        self.lastmod: dict[str, datetime] = {}
        self.known: dict[str, KnownPage] = {}
        self.previous_links: dict[str, list[str]] = {}
        self.truncated = False
        self.visited = 0
        self.started = time.monotonic()
        self._stop = asyncio.Event()
        self._seq = itertools.count()
        self._queue: asyncio.PriorityQueue[_Item] = asyncio.PriorityQueue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crawl-io")
        self._processors = (
            ThreadPoolExecutor(max_workers=process_concurrency, thread_name_prefix="crawl-sink")
            if process_concurrency > 1
            else self._executor
        )
        self._fetcher: Fetcher | None = None

    # public ------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Finish the pages in flight, leave the rest pending (cancel, or lease lost)."""
        self._stop.set()

    @property
    def progress(self) -> dict[str, Any]:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        counts = dict(self.counts)
        fetched = self.visited
        return {
            "seen": len(self.keys),
            "fetched": fetched,
            "changed": counts.get("new", 0) + counts.get("changed", 0),
            "unchanged": counts.get("unchanged", 0),
            "failed": counts.get("failed", 0) + counts.get("blocked", 0),
            "removed": counts.get("removed", 0),
            "pending": self._queue.qsize(),
            "outcomes": counts,
            "pages_per_s": round(fetched / elapsed, 2),
            "truncated": self.truncated,
        }

    async def run(self) -> CrawlReport:
        try:
            async with Fetcher(
                self.settings, self.config.user_agent, self.config.requests_per_second, self._redirect_ok
            ) as fetcher:
                self._fetcher = fetcher
                await self._prepare()
                workers = [asyncio.create_task(self._work()) for _ in range(self.settings.crawl_concurrency)]
                flusher = asyncio.create_task(self._flush_loop())
                try:
                    await self._queue.join()
                finally:
                    for task in workers:
                        task.cancel()
                    flusher.cancel()
                    await asyncio.gather(*workers, flusher, return_exceptions=True)
                    await self._flush()
            cancelled = self._stop.is_set()
            swept = False
            if not cancelled and not self.truncated and any(self.counts[o] for o in PRESENT):
                await self._sweep_vanished()
                swept = True
            self._report()
            return CrawlReport(
                status="cancelled" if cancelled else "done",
                counts=dict(self.counts),
                truncated=self.truncated,
                elapsed_s=time.monotonic() - self.started,
                swept=swept,
            )
        finally:
            self._processors.shutdown(wait=True)
            self._executor.shutdown(wait=True)

    # setup -------------------------------------------------------------------------------------
    async def _io(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def _prepare(self) -> None:
        rows = await self._io(self.journal.load)
        self.known = await self._io(self.journal.known_pages)
        self.previous_links = await self._io(self.journal.previous_links)
        if rows:  # resuming: the journal is the frontier
            for row in rows:
                self.keys.add(row.url_key)
                if row.state == "done":
                    self.counts[row.outcome or "failed"] += 1
                    self.visited += 1
                    self.attempted.add(row.url_key)
                    if row.document_url:
                        self.attempted.add(url_key(row.document_url))
                        self.handled.add(url_key(row.document_url))
                else:
                    self._queue.put_nowait(_Item(row.depth, next(self._seq), row.url, row.url_key, row.via))
            log.info(
                "crawl.resumed",
                job_id=self.journal.job_id,
                done=len(self.attempted),
                pending=self._queue.qsize(),
            )
            return
        for url in self.config.start_urls:
            self._discover(url, 0, "start")
        await self._read_sitemaps()
        await self._flush()

    async def _read_sitemaps(self) -> None:
        assert self._fetcher is not None
        queue = [u for u in (normalize(s) for s in self.config.sitemap_urls) if u]
        for start in self.config.start_urls:
            robots = await self._fetcher.robots(start)
            queue += [u for u in (normalize(s) for s in robots.sitemaps) if u and self.config.host_allowed(u)]
        seen: set[str] = set()
        while queue and len(seen) < MAX_SITEMAPS:
            sitemap_url = queue.pop(0)
            if sitemap_url in seen:
                continue
            seen.add(sitemap_url)
            result = await self._fetcher.fetch(sitemap_url)
            if result.status != 200:
                log.warning("crawl.sitemap_failed", url=sitemap_url, status=result.status, error=result.error)
                self.counts["sitemap_failed"] += 1
                continue
            try:
                parsed = parse_sitemap(result.body, self.settings.crawl_max_bytes)
            except SitemapError as error:
                log.warning("crawl.sitemap_invalid", url=sitemap_url, error=str(error))
                self.counts["sitemap_failed"] += 1
                continue
            queue += [u for u in (normalize(s, base=sitemap_url) for s in parsed.sitemaps) if u]
            for entry in parsed.pages:
                key = self._discover(entry.url, 0, "sitemap", base=sitemap_url)
                if key and entry.lastmod:
                    self.lastmod[key] = entry.lastmod

    def _redirect_ok(self, url: str) -> bool:
        return self.config.host_allowed(url)

    def _discover(self, raw: str, depth: int, via: str, base: str | None = None) -> str | None:
        """Add a URL to the frontier when it is wanted and new; returns its key."""
        url = normalize(raw, base=base)
        if url is None or not self.config.url_wanted(url) or skip_by_suffix(url):
            return None
        if trap_reason(url) is not None:
            self.counts["trap"] += 1
            return None
        key = url_key(url)
        if key in self.keys:
            return key
        if urlsplit(url).query:
            path = path_of(url)
            if self.query_variants[path] >= self.config.max_query_variants:
                self.counts["trap"] += 1
                return None
            self.query_variants[path] += 1
        if len(self.keys) >= self.config.max_pages:
            self.truncated = True
            return None
        self.keys.add(key)
        self.journal.add_pending(key, url, depth, via)
        self._queue.put_nowait(_Item(depth, next(self._seq), url, key, via))
        return key

    # the work ----------------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if not self._stop.is_set():
                    await self._visit(item)
            except Exception as error:  # one bad page never stops the crawl
                log.exception("crawl.page_error", url=item.url)
                self._done(item, "failed", detail=f"interne fout: {type(error).__name__}")
            finally:
                self._queue.task_done()

    def _done(self, item: _Item, outcome: str, **fields: Any) -> None:
        self.counts[outcome] += 1
        self.visited += 1
        self.attempted.add(item.key)
        document_url = fields.get("document_url")
        if document_url:
            self.attempted.add(url_key(document_url))
        self.journal.add_done(item.key, item.url, item.depth, item.via, outcome, **fields)
        if self.on_progress is not None:
            self.on_progress(self.progress)

    async def _visit(self, item: _Item) -> None:
        assert self._fetcher is not None
        if item.key in self.handled:
            self._done(item, "duplicate", detail="al verwerkt via een andere URL")
            return
        known = self.known.get(item.key)
        lastmod = self.lastmod.get(item.key)
        if (
            known is not None
            and lastmod is not None
            and known.fetched_at is not None
            and lastmod <= as_utc(known.fetched_at)
            and item.key in self.previous_links
        ):
            # The sitemap says the page did not change since we fetched it: no request at all.
            self.handled.add(item.key)
            await self._io(self.journal.mark_seen, known.url)
            links = self.previous_links[item.key]
            self._follow(links, item)
            self._done(item, "unchanged", document_url=known.url, detail="lastmod in sitemap", links=links)
            return
        headers: dict[str, str] = {}
        if known is not None and known.etag:
            headers["If-None-Match"] = known.etag
        if known is not None and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        result = await self._fetcher.fetch(item.url, headers)
        common: dict[str, Any] = {
            "http_status": result.status,
            "elapsed_ms": result.elapsed_ms,
            "content_type": result.content_type or None,
        }
        if result.error is not None:
            outcome = "blocked" if result.refused else "failed"
            self._done(item, outcome, detail=result.error, **common)
            return
        if result.status == 304 and known is not None:
            self.handled.add(item.key)
            await self._io(self.journal.mark_seen, known.url)
            links = self.previous_links.get(item.key, [])
            self._follow(links, item)
            self._done(item, "unchanged", document_url=known.url, detail="304", links=links, **common)
            return
        if result.status in (404, 410):
            await self._missing(item, known, result, common)
            return
        if result.status != 200:
            self._done(item, "failed", detail=f"HTTP {result.status}", **common)
            return
        await self._page(item, result, common)

    async def _page(self, item: _Item, result: FetchResult, common: dict[str, Any]) -> None:
        document_url = result.final_url
        key = url_key(document_url)
        if key != item.key and key in self.handled:
            self._done(item, "duplicate", document_url=document_url, detail="doorverwezen", **common)
            return
        kind = MEDIA_KINDS.get(result.media_type) or SUFFIX_KINDS.get(
            "." + urlsplit(document_url).path.rsplit(".", 1)[-1].lower(), ""
        )
        size = len(result.body)
        if not kind or kind not in self.config.content_types:
            self._done(item, "skipped", detail=f"type {result.media_type or 'onbekend'}", size=size, **common)
            return
        links: list[str] | None = None
        noindex = False
        if kind == "html":
            parsed = parse_links(result.body, document_url, result.content_type)
            links = [u for u in parsed.links if self.config.url_wanted(u)]
            noindex = parsed.noindex
            canonical = parsed.canonical
            if canonical and url_key(canonical) != key and self.config.url_wanted(canonical):
                if url_key(canonical) in self.handled:
                    self._follow(links, item)
                    self._done(
                        item,
                        "duplicate",
                        document_url=canonical,
                        detail="rel=canonical",
                        links=links,
                        **common,
                    )
                    return
                document_url, key = canonical, url_key(canonical)
        self.handled.add(key)
        self.keys.add(key)
        if links:
            self._follow(links, item)
        if noindex:
            self._done(item, "noindex", document_url=document_url, size=size, links=links, **common)
            return
        raw_hash = hashlib.sha256(result.body).hexdigest()
        known = self.known.get(key)
        if known is not None and known.raw_hash == raw_hash:
            await self._io(self.journal.mark_seen, known.url)
            self._done(
                item,
                "unchanged",
                document_url=known.url,
                detail="zelfde inhoud",
                size=size,
                links=links,
                **common,
            )
            return
        status, reason = await asyncio.get_running_loop().run_in_executor(
            self._processors,
            self._process, document_url, result.body, result.content_type or None,
            result.headers.get("etag"), result.headers.get("last-modified"), raw_hash,
        )  # fmt: skip
        self._done(item, status, document_url=document_url, detail=reason, size=size, links=links, **common)

    def _process(
        self,
        url: str,
        data: bytes,
        content_type: str | None,
        etag: str | None,
        last_modified: str | None,
        raw: str,
    ) -> tuple[str, str | None]:
        status, reason = self.sink.process(url, data, content_type, etag, last_modified)
        if status in ("new", "changed", "unchanged"):
            self.journal.mark_seen(url, raw)
        return status, reason

    def _follow(self, links: list[str], item: _Item) -> None:
        if item.depth + 1 > self.config.max_depth:
            return
        for link in links:
            self._discover(link, item.depth + 1, "link")

    async def _missing(
        self, item: _Item, known: KnownPage | None, result: FetchResult, common: dict[str, Any]
    ) -> None:
        if known is None:
            self._done(item, "gone", detail=f"HTTP {result.status}", **common)
            return
        removed = await self._io(self._count_miss, known.url)
        self._done(
            item,
            "removed" if removed else "gone",
            document_url=known.url,
            detail=f"HTTP {result.status}",
            **common,
        )

    def _count_miss(self, url: str) -> bool:
        misses = self.journal.add_miss(url)
        if misses >= self.config.remove_after_misses:
            return self.sink.remove(url)
        return False

    async def _sweep_vanished(self) -> None:
        """Documents this crawl did not reach (no longer linked, or excluded) count a miss."""
        vanished = [page.url for key, page in self.known.items() if key not in self.attempted]
        for url in vanished:
            if await self._io(self._count_miss, url):
                self.counts["removed"] += 1
                self.journal.add_done(url_key(url), url, 0, "sweep", "removed", detail="niet meer gevonden")
            else:
                self.counts["missing"] += 1
        await self._flush()

    # persistence -------------------------------------------------------------------------------
    async def _flush(self) -> None:
        pending, done = self.journal.take()
        if pending or done:
            # Shielded: rows taken from the buffer must reach the database even if we are cancelled.
            await asyncio.shield(self._io(self.journal.write, pending, done))

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self._flush()

    def _report(self) -> None:
        log.info(
            "crawl.finished",
            job_id=self.journal.job_id,
            **{k: v for k, v in self.progress.items() if k != "outcomes"},
        )
