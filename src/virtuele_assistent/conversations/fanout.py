"""Fan-out of live events (staff messages, handover status, the staff queue) to open connections.

Embedded: in-process queues. Production: Redis pub/sub, so a staff member connected to one API
replica reaches a resident connected to another. Each process keeps one pattern subscription and
hands messages to its local subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import structlog

log = structlog.get_logger(__name__)
# A connection counts as present this long after it last said so (it says so every third of it).
PRESENCE_TTL_S = 60.0


class Subscription:
    def __init__(self, broker: LocalBroker, channel: str) -> None:
        self.broker = broker
        self.channel = channel
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()

    def close(self) -> None:
        self.broker._remove(self)


class LocalBroker:
    """In-process fan-out (embedded profile, and the local half of the Redis broker)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self._present: dict[str, dict[str, float]] = defaultdict(dict)  # group -> member -> until

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(self, channel)
        self._subscribers[channel].add(subscription)
        try:
            yield subscription
        finally:
            subscription.close()

    def _remove(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(subscription.channel, None)

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            try:
                subscription.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("fanout.dropped", channel=channel)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.deliver(channel, message)

    # Presence: who is connected now (staff on a tenant's live queue), across replicas with Redis.

    async def mark_present(self, group: str, member: str, ttl_s: float = PRESENCE_TTL_S) -> None:
        self._present[group][member] = time.time() + ttl_s

    async def mark_absent(self, group: str, member: str) -> None:
        self._present[group].pop(member, None)

    async def present(self, group: str) -> int:
        """How many members of the group said they are here within their time to live."""
        now = time.time()
        members = self._present[group]
        for member in [m for m, until in members.items() if until <= now]:
            del members[member]
        return len(members)


class RedisBroker(LocalBroker):
    """Redis pub/sub across API replicas; local delivery happens when Redis echoes the message."""

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__()
        self.url = url
        self.prefix = f"{prefix}:fanout:"
        self._redis: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self.url, decode_responses=True)
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(self.prefix + "*")
                self._ready.set()
                async for item in pubsub.listen():
                    if item.get("type") != "pmessage":
                        continue
                    channel = str(item["channel"])[len(self.prefix) :]
                    try:
                        self.deliver(channel, json.loads(item["data"]))
                    except ValueError:
                        log.warning("fanout.bad_message", channel=channel)
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as error:  # Redis restarted or unreachable: retry
                log.warning("fanout.redis_unavailable", error=str(error)[:200])
                self._ready.set()
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await self._redis.publish(self.prefix + channel, json.dumps(message))
        except Exception as error:
            log.warning("fanout.publish_failed", error=str(error)[:200])
            self.deliver(channel, message)  # at least this replica's connections hear it

    def _presence_key(self, group: str) -> str:
        return f"{self.prefix}presence:{group}"

    async def mark_present(self, group: str, member: str, ttl_s: float = PRESENCE_TTL_S) -> None:
        await super().mark_present(group, member, ttl_s)  # this replica's own view, if Redis fails
        try:
            key = self._presence_key(group)
            await self._redis.zadd(key, {member: time.time() + ttl_s})
            await self._redis.expire(key, int(ttl_s) + 1)
        except Exception as error:
            log.warning("fanout.presence_failed", error=str(error)[:200])

    async def mark_absent(self, group: str, member: str) -> None:
        await super().mark_absent(group, member)
        try:
            await self._redis.zrem(self._presence_key(group), member)
        except Exception as error:
            log.warning("fanout.presence_failed", error=str(error)[:200])

    async def present(self, group: str) -> int:
        try:
            key = self._presence_key(group)
            await self._redis.zremrangebyscore(key, "-inf", time.time())
            return int(await self._redis.zcard(key))
        except Exception as error:
            log.warning("fanout.presence_failed", error=str(error)[:200])
            return await super().present(group)


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def staff_channel(tenant_id: int) -> str:
    return f"staff:{tenant_id}"
