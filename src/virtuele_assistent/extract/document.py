"""Turn fetched bytes into an ExtractedDocument: title, Markdown-style text, language, date."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import trafilatura

MAX_BYTES = 10 * 1024 * 1024
MIN_WORDS = 4  # less is navigation debris, not content


class ExtractionError(ValueError):
    """The file cannot be used: empty, binary, too large or malformed."""


@dataclass
class ExtractedDocument:
    url: str
    title: str
    text: str  # Markdown: '#' headings, '-' list items, '|' table rows
    language: str | None = None
    last_modified: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_HTML_LANG = re.compile(rb"<html[^>]*\blang=[\"']?([A-Za-z-]+)", re.I)
_MODIFIED = re.compile(
    rb"<meta[^>]+(?:name|property)=[\"'](?:dcterms\.modified|article:modified_time|last-modified)[\"']"
    rb"[^>]+content=[\"']([^\"']+)",
    re.I,
)


def extract(data: bytes, url: str, content_type: str | None = None) -> ExtractedDocument:
    """Extract the main content of one file; raises ExtractionError when it has none."""
    if not data or not data.strip():
        raise ExtractionError("leeg bestand")
    if len(data) > MAX_BYTES:
        raise ExtractionError(f"bestand groter dan {MAX_BYTES // (1024 * 1024)} MB")
    kind = _kind(url, content_type, data)
    if kind == "markdown":
        return _from_markdown(data, url)
    if kind == "html":
        return _from_html(data, url)
    raise ExtractionError(f"bestandstype niet ondersteund ({content_type or url.rsplit('/', 1)[-1]})")


def _kind(url: str, content_type: str | None, data: bytes) -> str:
    ctype = (content_type or "").split(";")[0].strip().lower()
    lower_url = url.lower().split("?")[0]
    if ctype in ("text/markdown", "text/x-markdown") or lower_url.endswith((".md", ".markdown")):
        return "markdown"
    if ctype in ("text/html", "application/xhtml+xml") or lower_url.endswith((".html", ".htm", "/")):
        return "html"
    if b"\x00" in data[:4096]:
        return "binary"
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "unknown"


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise ExtractionError("binair bestand")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _from_html(data: bytes, url: str) -> ExtractedDocument:
    html = _decode(data)
    text = trafilatura.extract(
        html,
        url=url,
        output_format="markdown",
        include_tables=True,
        include_formatting=True,
        include_links=False,
        include_comments=False,
        favor_recall=True,
        with_metadata=False,
    )
    if not text or len(text.split()) < MIN_WORDS:
        raise ExtractionError("geen hoofdtekst gevonden")
    metadata = trafilatura.extract_metadata(html, default_url=url)
    title = (metadata.title if metadata and metadata.title else "") or _first_heading(text) or url
    lang_match = _HTML_LANG.search(data[:4096])
    modified = _MODIFIED.search(data)
    return ExtractedDocument(
        url=url,
        title=title.strip(),
        text=_FRONT_MATTER.sub("", text).strip(),
        language=lang_match.group(1).decode().lower().split("-")[0] if lang_match else None,
        last_modified=modified.group(1).decode() if modified else (metadata.date if metadata else None),
    )


def _from_markdown(data: bytes, url: str) -> ExtractedDocument:
    text = _FRONT_MATTER.sub("", _decode(data)).strip()
    if not text:
        raise ExtractionError("geen tekst")
    return ExtractedDocument(url=url, title=_first_heading(text) or url, text=text, language=None)


def _first_heading(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return None
