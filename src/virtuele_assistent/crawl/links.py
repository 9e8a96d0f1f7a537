"""What the crawler needs from an HTML page: its links, canonical URL and robots meta tags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from virtuele_assistent.crawl.urls import normalize

MAX_LINKS_PER_PAGE = 2000
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", re.I)


@dataclass
class PageLinks:
    links: list[str] = field(default_factory=list)
    canonical: str | None = None
    noindex: bool = False
    nofollow: bool = False


def _encoding(data: bytes, content_type: str) -> str | None:
    match = re.search(r"charset=([A-Za-z0-9_-]+)", content_type or "", re.I)
    if match:
        return match.group(1)
    meta = _META_CHARSET.search(data[:4096])
    return meta.group(1).decode("ascii") if meta else None


def parse_links(data: bytes, url: str, content_type: str = "") -> PageLinks:
    """Links of an HTML page, absolute and normalised; tolerant of broken markup and charsets."""
    result = PageLinks()
    encoding = _encoding(data, content_type)
    try:
        parser = lxml.html.HTMLParser(encoding=encoding, recover=True, no_network=True)
        root = lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, LookupError, ValueError):
        try:
            root = lxml.html.document_fromstring(data.decode("utf-8", errors="replace"))
        except (etree.ParserError, ValueError):
            return result
    base = url
    for element in root.iter("base"):
        href = element.get("href")
        if href:
            base = normalize(href, base=url) or url
        break
    for meta in root.iter("meta"):
        if (meta.get("name") or "").lower() in ("robots", "virtueleassistent"):
            content = (meta.get("content") or "").lower()
            result.noindex = result.noindex or "noindex" in content or "none" in content
            result.nofollow = result.nofollow or "nofollow" in content or "none" in content
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            result.canonical = normalize(link.get("href", ""), base=base)
            break
    if result.nofollow:
        return result
    seen: set[str] = set()
    for element in root.iter("a", "area", "iframe", "frame"):
        href = element.get("href") or element.get("src")
        if not href:
            continue
        target = normalize(href, base=base)
        if target and target not in seen:
            seen.add(target)
            result.links.append(target)
            if len(result.links) >= MAX_LINKS_PER_PAGE:
                break
    return result
