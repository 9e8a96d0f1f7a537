"""Rate limits per session, client IP and staff account (the ``limits`` library).

Embedded: in-process memory. Production: Redis, shared by all API replicas, under the configured
key prefix. If Redis cannot be reached the limits do not fail open: each replica counts in its own
memory until Redis answers again (so a limit holds per replica, and sign-in stays limited), and
``/readyz`` reports Redis as unavailable.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from virtuele_assistent.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
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
        self.fallback = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.degraded = False
        self.limits: dict[str, RateLimitItem] = {
            "session": parse(settings.rate_limit_session),
            "ip": parse(settings.rate_limit_ip),
            "new_session": parse(settings.rate_limit_new_sessions),
            "login_ip": parse(settings.rate_limit_login_ip),
            "login_account": parse(settings.rate_limit_login_account),
        }

    async def hit(self, kind: str, key: str) -> Verdict:
        item = self.limits[kind]
        try:
            verdict = await self._hit(self.strategy, item, kind, key)
        except Exception as error:  # Redis unreachable: count in this process instead
            if not self.degraded:
                log.warning("ratelimit.redis_unavailable", error=str(error)[:200])
            self.degraded = True
            return await self._hit(self.fallback, item, kind, key)
        if self.degraded:
            log.info("ratelimit.redis_back")
            self.degraded = False
        return verdict

    @staticmethod
    async def _hit(
        strategy: SlidingWindowCounterRateLimiter, item: RateLimitItem, kind: str, key: str
    ) -> Verdict:
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
