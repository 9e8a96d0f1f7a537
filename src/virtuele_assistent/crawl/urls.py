"""URL normalisation and trap detection: one page, one key, however it is linked."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

MAX_URL_LENGTH = 2000
MAX_QUERY_PARAMS = 12
MAX_SEGMENT_REPEATS = 3
MAX_PATH_SEGMENTS = 25

TRACKING_PARAMS = frozenset(
    {
        "gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "yclid", "igshid", "twclid",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref_src", "sessionid",
        "phpsessid", "jsessionid", "sid",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "hsa_")

# Files that are never content: not worth a request.
SKIP_SUFFIXES = (
    ".css", ".js", ".mjs", ".json", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".bmp",
    ".tif", ".tiff", ".mp3", ".mp4", ".m4a", ".avi", ".mov", ".webm", ".ogg", ".wav", ".zip", ".gz",
    ".tgz", ".rar", ".7z", ".exe", ".dmg", ".iso", ".woff", ".woff2", ".ttf", ".eot", ".xlsx", ".xls",
    ".pptx", ".ppt", ".csv", ".ics", ".rss", ".atom", ".apk",
)  # fmt: skip

_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = "/:@!$'()*+,;-._~%?"
_JSESSION = re.compile(r";jsessionid=[^/?#]*", re.I)


def _requote(text: str, safe: str) -> str:
    return quote(unquote(text), safe=safe)


def normalize(url: str, base: str | None = None) -> str | None:
    """Absolute, canonical form of a link, or None when it is not an http(s) page URL.

    Lower-case scheme and host, no default port, no fragment, dot segments resolved,
    percent-encoding made uniform, tracking parameters dropped, query parameters sorted.
    """
    url = url.strip()
    if not url or url.startswith(("mailto:", "tel:", "javascript:", "data:", "#")):
        return None
    try:
        absolute = urljoin(base, url) if base else url
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, {"http": 80, "https": 443}[scheme]) else f"{host}:{port}"
    path = _JSESSION.sub("", parts.path) or "/"
    trailing = path.endswith("/")
    path = posixpath.normpath(path)
    path = "/" if path in (".", "/", "//") else path
    if trailing and not path.endswith("/"):
        path += "/"
    path = _requote(path, _SAFE_PATH)
    query_pairs = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    query = urlencode(sorted(query_pairs), quote_via=quote, safe=_SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_key(normalized: str) -> str:
    """Identity of a page for de-duplication: "/a/" and "/a", "/" and "/index.html" are one page."""
    parts = urlsplit(normalized)
    path = parts.path
    for index in ("index.html", "index.htm", "index.php"):
        if path.endswith("/" + index):
            path = path[: -len(index)]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def trap_reason(normalized: str) -> str | None:
    """Why a URL looks like a crawler trap (endless calendars, repeating paths), or None."""
    if len(normalized) > MAX_URL_LENGTH:
        return "URL te lang"
    parts = urlsplit(normalized)
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) > MAX_PATH_SEGMENTS:
        return "pad te diep"
    counts: dict[str, int] = {}
    for segment in segments:
        counts[segment] = counts.get(segment, 0) + 1
        if counts[segment] > MAX_SEGMENT_REPEATS:
            return "herhalend pad"
    if parts.query and len(parse_qsl(parts.query, keep_blank_values=True)) > MAX_QUERY_PARAMS:
        return "te veel queryparameters"
    return None


def skip_by_suffix(normalized: str) -> bool:
    return urlsplit(normalized).path.lower().endswith(SKIP_SUFFIXES)


def path_of(normalized: str) -> str:
    parts = urlsplit(normalized)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
