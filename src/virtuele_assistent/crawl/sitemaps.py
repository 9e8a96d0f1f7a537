"""sitemap.xml (urlset and sitemap index, plain or gzipped) -> page URLs with lastmod.

A small parser on lxml rather than ultimate-sitemap-parser: that library fetches the sitemaps
itself (through its own synchronous web client), which would bypass the crawler's SSRF guard,
rate limit, size cap and robots.txt; see docs/adr/0004-crawler-parses-sitemaps-itself.md.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

MAX_URLS_PER_SITEMAP = 50_000


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None = None


@dataclass
class ParsedSitemap:
    pages: list[SitemapEntry]
    sitemaps: list[str]  # children of a sitemap index


class SitemapError(ValueError):
    pass


def decompress(data: bytes, max_bytes: int) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, max_bytes + 1)
    except (zlib.error, gzip.BadGzipFile) as error:
        raise SitemapError(f"kapotte gzip: {error}") from None
    if len(out) > max_bytes:
        raise SitemapError("uitgepakte sitemap te groot")
    return out


def parse_lastmod(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.strip()
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_sitemap(data: bytes, max_bytes: int = 50 * 1024 * 1024) -> ParsedSitemap:
    """Read a sitemap; tolerant of missing namespaces, strict about entities (no XXE)."""
    data = decompress(data, max_bytes)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=True, remove_comments=True
    )
    try:
        root = etree.fromstring(data.strip(), parser=parser)
    except etree.XMLSyntaxError as error:
        raise SitemapError(f"geen geldige XML: {error}") from None
    if root is None:
        raise SitemapError("lege sitemap")
    kind = etree.QName(root).localname.lower()
    pages: list[SitemapEntry] = []
    sitemaps: list[str] = []
    for entry in root:
        if not isinstance(entry.tag, str):
            continue
        fields = {etree.QName(child).localname.lower(): (child.text or "").strip() for child in entry}
        loc = fields.get("loc")
        if not loc:
            continue
        if kind == "sitemapindex":
            sitemaps.append(loc)
        elif kind == "urlset":
            pages.append(SitemapEntry(loc, parse_lastmod(fields.get("lastmod"))))
        if len(pages) + len(sitemaps) >= MAX_URLS_PER_SITEMAP:
            break
    if kind not in ("sitemapindex", "urlset"):
        raise SitemapError(f"onbekend sitemap-element <{kind}>")
    return ParsedSitemap(pages, sitemaps)
