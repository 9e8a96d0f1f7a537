"""Rate limits per session and per client IP (the ``limits`` library).

Embedded: in-process memory. Production: Redis, shared by all API replicas, under the configured
key prefix. If Redis is unreachable the limiter lets requests through and logs it: a broken limiter
must not take the chat down.
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
        if settings.redis_url:
            uri = "async+" + settings.redis_url
            storage = RedisStorage(
                uri, implementation="redispy", key_prefix=f"{settings.redis_prefix}:limits"
            )
        else:
            storage = MemoryStorage()
        self.storage = storage
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        self.limits: dict[str, RateLimitItem] = {
            "session": parse(settings.rate_limit_session),
            "ip": parse(settings.rate_limit_ip),
            "new_session": parse(settings.rate_limit_new_sessions),
        }

    async def hit(self, kind: str, key: str) -> Verdict:
        item = self.limits[kind]
        try:
            if await self.strategy.hit(item, kind, key):
                return Verdict(True)
            stats = await self.strategy.get_window_stats(item, kind, key)
            return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))
        except Exception as error:  # fail open
            log.warning("ratelimit.unavailable", error=str(error)[:200])
            return Verdict(True)

    async def check(self, *checks: tuple[str, str]) -> Verdict:
        """Count one hit on each (kind, key); refused as soon as one limit is exceeded."""
        worst = Verdict(True)
        for kind, key in checks:
            verdict = await self.hit(kind, key)
            if not verdict.allowed and verdict.retry_after >= worst.retry_after:
                worst = verdict
        return worst
