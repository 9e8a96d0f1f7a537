"""Polite, defensive HTTP fetching: robots.txt, per-host rate limit, retries, size and time caps.

One Fetcher serves one crawl. Every request (each redirect hop and each retry too) waits for its
host's turn; redirects are followed by hand so that every hop is normalised, scoped, checked
against robots.txt and connected to through the SSRF guard.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
import structlog
from protego import Protego
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from virtuele_assistent.crawl.safety import AddressGuard, BlockedAddress, GuardedTransport
from virtuele_assistent.crawl.urls import normalize
from virtuele_assistent.settings import Settings

log = structlog.get_logger(__name__)

REDIRECTS = (301, 302, 303, 307, 308)
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_CRAWL_DELAY_S = 30.0
ROBOTS_MAX_BYTES = 512 * 1024
ACCEPT = "text/html,application/xhtml+xml,application/pdf,application/xml;q=0.9,*/*;q=0.5"


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    elapsed_ms: int = 0
    redirects: list[str] = field(default_factory=list)
    attempts: int = 1
    refused: bool = False  # not fetched by rule (robots.txt, an address not allowed), not by failure

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None, result: FetchResult | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.result = result


class FetchFailed(Exception):
    """A fetch that cannot succeed (too large, too slow, loops, blocked address)."""


class Refused(FetchFailed):
    """A fetch the rules forbid: robots.txt disallows the page, or its address is not allowed."""


class HostLimiter:
    """Spaces the requests to each host at least ``interval`` seconds apart."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, host: str, interval: float) -> None:
        if interval <= 0:
            return
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            delay = self._next.get(host, 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next[host] = loop.time() + interval


class Robots:
    """robots.txt of one origin, as protego reads it; ``None`` rules mean "fetch nothing"."""

    def __init__(self, rules: Protego | None, reason: str | None = None, refused: bool = False) -> None:
        self.rules = rules
        self.reason = reason
        self.refused = refused  # rules None because the address is not allowed, not unreachable

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.rules is None:
            return False
        return bool(self.rules.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float:
        if self.rules is None:
            return 0.0
        delay = self.rules.crawl_delay(user_agent)
        rate = self.rules.request_rate(user_agent)
        seconds = float(delay or 0.0)
        if rate is not None and rate.requests:
            seconds = max(seconds, rate.seconds / rate.requests)
        return min(seconds, MAX_CRAWL_DELAY_S)

    @property
    def sitemaps(self) -> list[str]:
        return list(self.rules.sitemaps) if self.rules is not None else []


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Fetcher:
    def __init__(
        self,
        settings: Settings,
        user_agent: str,
        requests_per_second: float,
        accept_url: Callable[[str], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.user_agent = user_agent
        self.interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self.accept_url = accept_url or (lambda _url: True)
        self.limiter = HostLimiter()
        self._robots: dict[str, Robots] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        limits = httpx.Limits(max_connections=settings.crawl_concurrency * 2, max_keepalive_connections=16)
        self.client = httpx.AsyncClient(
            transport=GuardedTransport(AddressGuard(settings.crawl_allow_hosts), limits),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(settings.crawl_timeout_s, connect=min(10.0, settings.crawl_timeout_s)),
            headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Language": "nl,en;q=0.5"},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # robots.txt ---------------------------------------------------------------------------------
    async def robots(self, url: str) -> Robots:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self._robots:
            return self._robots[origin]
        async with self._robots_locks.setdefault(origin, asyncio.Lock()):
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(origin)
        return self._robots[origin]

    async def _load_robots(self, origin: str) -> Robots:
        result = await self.fetch(origin + "/robots.txt", check_robots=False, max_bytes=ROBOTS_MAX_BYTES)
        if result.status == 200:
            text = result.body.decode("utf-8", errors="replace")
            return Robots(Protego.parse(text))
        if result.status is not None and 400 <= result.status < 500:
            return Robots(Protego.parse(""))  # no robots.txt: everything may be fetched
        if result.refused:
            return Robots(None, result.error, refused=True)
        # RFC 9309: an unreachable robots.txt means the whole site is off limits for now.
        log.info("crawl.robots_unreachable", origin=origin, status=result.status, error=result.error)
        return Robots(
            None, f"site onbereikbaar: robots.txt niet op te halen ({result.error or result.status})"
        )

    # fetching -----------------------------------------------------------------------------------
    async def fetch(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        check_robots: bool = True,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch one URL with retries; never raises for network or server trouble."""
        started = time.monotonic()
        attempts = 0
        base = self.settings.crawl_retry_base_s

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _Retryable) and error.retry_after is not None:
                return error.retry_after
            step = base * (2 ** (state.attempt_number - 1))
            return random.uniform(0, min(step, 30.0)) + step / 2  # exponential with jitter

        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.settings.crawl_retries),
                retry=retry_if_exception_type(_Retryable),
                wait=wait,
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    result = await self._fetch_once(url, headers or {}, check_robots, max_bytes)
        except _Retryable as error:
            result = error.result or FetchResult(url, url, error=str(error))
        except FetchFailed as error:
            result = FetchResult(url, url, error=str(error), refused=isinstance(error, Refused))
        result.attempts = attempts
        result.elapsed_ms = int((time.monotonic() - started) * 1000)
        return result

    async def _fetch_once(
        self, url: str, headers: dict[str, str], check_robots: bool, max_bytes: int | None
    ) -> FetchResult:
        try:
            async with asyncio.timeout(self.settings.crawl_timeout_s):
                return await self._follow(url, headers, check_robots, max_bytes)
        except TimeoutError:
            raise FetchFailed(f"geen volledig antwoord binnen {self.settings.crawl_timeout_s:g} s") from None
        except BlockedAddress as error:
            raise Refused(str(error)) from None
        except (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.ReadError,
            httpx.RemoteProtocolError,
        ) as error:
            raise _Retryable(f"verbinding mislukt: {error or type(error).__name__}") from None
        except httpx.HTTPError as error:
            raise FetchFailed(f"{type(error).__name__}: {error}") from None

    async def _follow(
        self, url: str, headers: dict[str, str], check_robots: bool, max_bytes: int | None
    ) -> FetchResult:
        current = url
        chain: list[str] = []
        for _hop in range(self.settings.crawl_max_redirects + 1):
            if check_robots:
                robots = await self.robots(current)
                if not robots.allowed(current, self.user_agent):
                    if robots.rules is not None or robots.refused:
                        raise Refused(robots.reason or "geweigerd door robots.txt")
                    raise FetchFailed(robots.reason or "site onbereikbaar")
                interval = max(self.interval, robots.crawl_delay(self.user_agent))
            else:
                interval = self.interval
            await self.limiter.wait(urlsplit(current).netloc, interval)
            request = self.client.build_request("GET", current, headers=headers if not chain else None)
            response = await self.client.send(request, stream=True)
            try:
                if response.status_code in REDIRECTS and "location" in response.headers:
                    target = normalize(response.headers["location"], base=current)
                    if target is None:
                        raise FetchFailed("doorverwijzing naar een ongeldige URL")
                    if target in chain or target == current:
                        raise FetchFailed("doorverwijzing in een kringloop")
                    if not self.accept_url(target):
                        raise FetchFailed(f"doorverwijzing buiten de bron: {target}")
                    chain.append(current)
                    current = target
                    continue
                result = FetchResult(
                    url=url,
                    final_url=current,
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    redirects=chain,
                )
                if response.status_code in RETRY_STATUSES:
                    raise _Retryable(
                        f"HTTP {response.status_code}",
                        retry_after=self._honoured_retry_after(response.headers.get("retry-after")),
                        result=result,
                    )
                if response.status_code == 200:
                    result.body = await self._read(response, max_bytes or self.settings.crawl_max_bytes)
                return result
            finally:
                await response.aclose()
        raise FetchFailed(f"meer dan {self.settings.crawl_max_redirects} doorverwijzingen")

    def _honoured_retry_after(self, header: str | None) -> float | None:
        seconds = _retry_after(header)
        if seconds is not None and seconds > self.settings.crawl_max_retry_after_s:
            raise FetchFailed(f"server vraagt {seconds:.0f} s te wachten (Retry-After), te lang")
        return seconds

    @staticmethod
    async def _read(response: httpx.Response, max_bytes: int) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchFailed(f"antwoord groter dan {max_bytes // 1024} kB ({int(declared) // 1024} kB)")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchFailed(f"antwoord groter dan {max_bytes // 1024} kB")
            chunks.append(chunk)
        return b"".join(chunks)
