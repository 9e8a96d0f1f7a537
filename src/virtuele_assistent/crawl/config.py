"""What an editor configures for a website source, validated with readable Dutch messages."""

from __future__ import annotations

import fnmatch
import re
from datetime import datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from virtuele_assistent.validation import refused

ContentKind = Literal["html", "pdf", "docx"]
_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_USER_AGENT = "VirtueleAssistent/0.1 (+https://github.com/virtuele-assistent; gemeentelijke zoekhulp)"


def parse_interval(text: str) -> timedelta | None:
    match = _INTERVAL.match(text.strip().lower())
    if not match:
        return None
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def next_run(schedule: str, after: datetime) -> datetime:
    """The first moment after ``after`` at which a crawl on ``schedule`` is due."""
    interval = parse_interval(schedule)
    if interval is not None:
        return after + interval
    return croniter(schedule, after).get_next(datetime)  # type: ignore[no-any-return]


# What the URL check below accepts, written in the API schema too.
HttpText = Annotated[
    str, Field(max_length=2000, json_schema_extra={"pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\s]"})
]


class SourceConfig(BaseModel):
    """Crawl rules of one website source. Patterns are globs on the full URL, or regexes as ``re:...``."""

    model_config = ConfigDict(extra="forbid")
    _seed_hosts: frozenset[str] = PrivateAttr(default=frozenset())  # hosts of the start and sitemap URLs

    start_urls: list[HttpText] = Field(default_factory=list, max_length=100)
    sitemap_urls: list[HttpText] = Field(default_factory=list, max_length=20)
    allowed_hosts: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Hosts (optionally host:port) links may lead to; default: the hosts of the start URLs.",
    )
    include: list[str] = Field(default_factory=list, max_length=50)
    exclude: list[str] = Field(default_factory=list, max_length=50)
    max_pages: int = Field(default=5000, ge=1, le=200_000)
    max_depth: int = Field(default=10, ge=0, le=50)
    requests_per_second: float = Field(
        default=2.0, ge=0, le=100, description="Per host; 0 means no limit (only for your own servers)."
    )
    user_agent: str = Field(default=DEFAULT_USER_AGENT, min_length=3, max_length=300)
    schedule: str | None = Field(
        default=None, description="Cron expression ('0 3 * * *') or interval ('6h', '30m', '1d')."
    )
    content_types: list[ContentKind] = Field(default=["html", "pdf", "docx"], min_length=1)
    remove_after_misses: int = Field(
        default=2, ge=1, le=100, description="Crawls a page may be missing (404/410/gone) before removal."
    )
    max_query_variants: int = Field(
        default=50, ge=1, le=10_000, description="URLs per path that differ only in their query string."
    )

    @field_validator("start_urls", "sitemap_urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise refused(f"'{url}' is geen geldige http(s)-URL", f"'{url}' is not a valid http(s) URL")
        return urls

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if pattern.startswith("re:"):
                try:
                    re.compile(pattern[3:])
                except re.error as error:
                    raise refused(
                        f"'{pattern}' is geen geldige reguliere expressie: {error}",
                        f"'{pattern}' is not a valid regular expression: {error}",
                    ) from None
        return patterns

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, schedule: str | None) -> str | None:
        if schedule is None or not schedule.strip():
            return None
        schedule = schedule.strip()
        interval = parse_interval(schedule)
        if interval is not None:
            if interval < timedelta(minutes=5):
                raise refused(
                    "een interval moet minstens 5 minuten zijn", "an interval is at least 5 minutes"
                )
            return schedule
        if not croniter.is_valid(schedule):
            raise refused(
                f"'{schedule}' is geen geldige cron-expressie of interval (zoals '6h')",
                f"'{schedule}' is not a valid cron expression or interval (such as '6h')",
            )
        return schedule

    @model_validator(mode="after")
    def _needs_a_seed(self) -> SourceConfig:
        if not self.start_urls and not self.sitemap_urls:
            raise refused(
                "geef minstens één start-URL of sitemap-URL op", "give at least one start URL or sitemap URL"
            )
        self._seed_hosts = frozenset(_netloc(u) for u in self.start_urls + self.sitemap_urls)
        if not self.allowed_hosts:
            self.allowed_hosts = sorted(self._seed_hosts)
        self.allowed_hosts = [h.lower() for h in self.allowed_hosts]
        return self

    def host_allowed(self, url: str) -> bool:
        """On an allowed host, or on the host of a start or sitemap URL: those are always allowed (a
        start URL outside allowed_hosts crawled nothing at all)."""
        netloc = _netloc(url)
        host = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
        if netloc in self.allowed_hosts or host in self.allowed_hosts:
            return True
        return netloc in self._seed_hosts

    def url_wanted(self, url: str) -> bool:
        """Allowed host, matches an include pattern (if any), and no exclude pattern."""
        if not self.host_allowed(url):
            return False
        if self.include and not any(_matches(p, url) for p in self.include):
            return False
        return not any(_matches(p, url) for p in self.exclude)


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port and parts.port != default:
        return f"{host}:{parts.port}"
    return host


def _matches(pattern: str, url: str) -> bool:
    if pattern.startswith("re:"):
        return re.search(pattern[3:], url) is not None
    return fnmatch.fnmatchcase(url, pattern)
