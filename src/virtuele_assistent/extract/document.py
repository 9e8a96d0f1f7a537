"""Turn fetched bytes into an ExtractedDocument: title, Markdown-style text, language, date.

HTML (main content only, via trafilatura), Markdown, PDF (pypdf) and DOCX (python-docx).
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html
import trafilatura

from virtuele_assistent.extract.docx import extract_docx
from virtuele_assistent.extract.language import detect_language
from virtuele_assistent.extract.model import ExtractedDocument, ExtractionError
from virtuele_assistent.extract.pdf import extract_pdf

MAX_BYTES = 10 * 1024 * 1024
MIN_WORDS = 4  # less is navigation debris, not content

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_HTML_LANG = re.compile(rb"<html[^>]*\blang=[\"']?([A-Za-z-]+)", re.I)
_MODIFIED = re.compile(
    rb"<meta[^>]+(?:name|property)=[\"'](?:dcterms\.modified|article:modified_time|last-modified)[\"']"
    rb"[^>]+content=[\"']([^\"']+)",
    re.I,
)


def extract(data: bytes, url: str, content_type: str | None = None) -> ExtractedDocument:
    """Extract the main content of one file; raises ExtractionError (with a Dutch reason) when it has none."""
    if not data or not data.strip():
        raise ExtractionError("leeg bestand")
    if len(data) > MAX_BYTES:
        raise ExtractionError(f"bestand groter dan {MAX_BYTES // (1024 * 1024)} MB")
    kind = file_kind(url, content_type, data)
    if kind == "markdown":
        document = _from_markdown(data, url)
    elif kind == "html":
        document = _from_html(data, url)
    elif kind == "pdf":
        document = extract_pdf(data, url)
    elif kind == "docx":
        document = extract_docx(data, url)
    elif kind == "binary":
        raise ExtractionError("binair bestand")
    else:
        raise ExtractionError(f"bestandstype niet ondersteund ({content_type or url.rsplit('/', 1)[-1]})")
    if not document.language:
        document.language = detect_language(document.text)
    return document


def file_kind(url: str, content_type: str | None, data: bytes) -> str:
    """'html' | 'markdown' | 'pdf' | 'docx' | 'binary' | 'unknown', from type, name and content."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    lower_url = url.lower().split("?")[0].split("#")[0]
    if data.startswith(b"%PDF-") or ctype == "application/pdf" or lower_url.endswith(".pdf"):
        return "pdf"
    if (
        ctype == DOCX_TYPE
        or lower_url.endswith(".docx")
        or (data.startswith(b"PK") and b"word/" in data[:2000])
    ):
        return "docx"
    if ctype in ("text/markdown", "text/x-markdown") or lower_url.endswith((".md", ".markdown")):
        return "markdown"
    if b"\x00" in data[:4096]:
        return "binary"
    if ctype in ("text/html", "application/xhtml+xml") or lower_url.endswith((".html", ".htm", "/")):
        return "html"
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


# Text that is mostly link texts names other pages, it does not answer (a topic index, a menu).
MAX_LINK_SHARE = 0.5


def _without_navigation(html: str) -> str:
    """The page without its lists of links (a 'Zie ook' box, related pages: every item only a link);
    ``ExtractionError`` when its main content is mostly link texts (a topic index)."""
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return html
    main = next(iter(tree.xpath("//main | //*[@role='main'] | //article")), None)
    root = main if main is not None else tree.find("body")
    if root is None:
        return html
    words = _letters(root.text_content())
    linked = sum(_letters(a.text_content()) for a in root.iter("a"))
    if words and linked / words > MAX_LINK_SHARE:
        raise ExtractionError("navigatiepagina: vooral links, geen bron voor antwoorden")
    for block in root.xpath(".//ul | .//ol"):
        items = block.findall("li")
        if len(items) >= 2 and all(_only_link(item) for item in items):
            block.drop_tree()
    return str(lxml.html.tostring(tree, encoding="unicode"))


def _only_link(item: lxml.html.HtmlElement) -> bool:
    links = item.findall(".//a")
    return len(links) == 1 and _letters(links[0].text_content()) == _letters(item.text_content()) > 0


def _letters(text: str) -> int:
    return sum(1 for c in text if c.isalnum())


def _from_html(data: bytes, url: str) -> ExtractedDocument:
    html = _without_navigation(_decode(data))
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
