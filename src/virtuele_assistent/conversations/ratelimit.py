"""Rate limits per session, client IP and staff account (the ``limits`` library).

Embedded: in-process memory. Production: Redis, shared by all API replicas, under the configured
key prefix. If Redis cannot be reached the limits do not fail open: each replica counts in its own
memory until Redis answers again (so a limit holds per replica, and sign-in stays limited), and
``/readyz`` reports Redis as unavailable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from virtuele_assistent.settings import Settings

log = structlog.get_logger(__name__)
T = TypeVar("T")
Strategy = SlidingWindowCounterRateLimiter | MovingWindowRateLimiter


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


@dataclass(frozen=True)
class Tally:
    """Events counted in a window: how many, and the seconds until the count goes down."""

    count: int
    retry_after: int = 0


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        storage: Storage
        self.redis_url = settings.redis_url
        if settings.redis_url:
            uri = "async+" + settings.redis_url
            storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix=f"{settings.redis_prefix}:limits",
                socket_connect_timeout=1,
                socket_timeout=1,
            )
        else:
            storage = MemoryStorage()
        self.storage = storage
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        memory = MemoryStorage()
        self.fallback = SlidingWindowCounterRateLimiter(memory)
        # Counted events (failed sign-ins) are few and decide who may sign in: an exact moving window,
        # not the sliding counter's estimate (which forgets part of a count at a window's boundary).
        self.events = MovingWindowRateLimiter(storage)
        self.events_fallback = MovingWindowRateLimiter(memory)
        self.degraded = False
        self.limits: dict[str, RateLimitItem] = {
            "session": parse(settings.rate_limit_session),
            "ip": parse(settings.rate_limit_ip),
            "new_session": parse(settings.rate_limit_new_sessions),
            "login_ip": parse(settings.rate_limit_login_ip),
        }

    async def hit(self, kind: str, key: str) -> Verdict:
        item = self.limits[kind]
        return await self._shared(lambda strategy: self._hit(strategy, item, kind, key))

    async def _shared(self, action: Callable[[Strategy], Awaitable[T]], events: bool = False) -> T:
        """The action on the shared store; in this process's memory while Redis does not answer."""
        shared, memory = (self.events, self.events_fallback) if events else (self.strategy, self.fallback)
        try:
            result = await action(shared)
        except Exception as error:  # Redis unreachable: count in this process instead
            if not self.degraded:
                log.warning("ratelimit.redis_unavailable", error=str(error)[:200])
            self.degraded = True
            return await action(memory)
        if self.degraded:
            log.info("ratelimit.redis_back")
            self.degraded = False
        return result

    # -- counting events (failed sign-ins) rather than requests ---------------------------------
    async def tally(self, item: RateLimitItem, kind: str, key: str) -> Tally:
        """How many events of ``kind`` for ``key`` are in ``item``'s window (counted up to its amount)."""

        async def read(strategy: Strategy) -> Tally:
            stats = await strategy.get_window_stats(item, kind, key)
            count = item.amount - stats.remaining
            return Tally(count, max(1, math.ceil(stats.reset_time - time.time())) if count else 0)

        return await self._shared(read, events=True)

    async def record(self, item: RateLimitItem, kind: str, key: str) -> None:
        """Count one event, also in this process's memory: when Redis stops answering, the counts of
        this replica are still there."""
        await self._shared(lambda strategy: strategy.hit(item, kind, key), events=True)
        if self.redis_url and not self.degraded:  # (when degraded, it was counted in memory already)
            await self.events_fallback.hit(item, kind, key)

    async def forget(self, item: RateLimitItem, kind: str, key: str) -> None:
        await self._shared(lambda strategy: strategy.clear(item, kind, key), events=True)
        if self.redis_url:
            await self.events_fallback.clear(item, kind, key)

    @staticmethod
    async def _hit(strategy: Strategy, item: RateLimitItem, kind: str, key: str) -> Verdict:
        if await strategy.hit(item, kind, key):
            return Verdict(True)
        stats = await strategy.get_window_stats(item, kind, key)
        return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))

    async def check(self, *checks: tuple[str, str]) -> Verdict:
        """Count one hit on each (kind, key); refused as soon as one limit is exceeded."""
        worst = Verdict(True)
        for kind, key in checks:
            verdict = await self.hit(kind, key)
            if not verdict.allowed and verdict.retry_after >= worst.retry_after:
                worst = verdict
        return worst

    async def ping(self) -> None:
        """Raises when the shared store (Redis) does not answer; nothing to check in memory."""
        if self.redis_url and not await self.storage.check():
            raise ConnectionError("Redis does not answer")
