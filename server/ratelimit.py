"""Rate limits that outlive Redis: shared through Redis while it answers, per node in memory
while it does not, and back on Redis by themselves once it returns.

A limiter that cannot count must not turn sign-in into a 500: the limits only slow guessing down,
so during an outage each node counts on its own (a deployment of N nodes then lets up to N times
the limit through) rather than refusing everyone. After a failure Redis is tried again every
`redis_retry_s`; stale pooled connections are replaced by redis-py's own retry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.util import WindowStats
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

T = TypeVar("T")

# A request waits at most this long on an unreachable Redis before counting in memory instead.
REDIS_SOCKET_TIMEOUT_S = 0.5
# Idle pooled connections are PINGed before use after this long, so a Redis restart is noticed
# on the spare connections too, not only on the one that failed.
REDIS_HEALTH_CHECK_S = 10


def redis_options() -> dict[str, Any]:
    """redis-py options for every client of ours: bounded waits, and one immediate retry on a
    fresh connection, so the first use of a connection that died with a Redis restart succeeds."""
    return {
        "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S,
        "health_check_interval": REDIS_HEALTH_CHECK_S,
        "retry": Retry(NoBackoff(), 1),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    }


class Limiter:
    """A moving-window limiter (limits' API: `hit`, `get_window_stats`) plus the raw counters
    (`incr`, `get`, `get_expiry`), each on Redis when it answers and in memory when not."""

    def __init__(self, redis_url: str | None = None, redis_retry_s: float = 5.0) -> None:
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        if redis_url:
            # limits defaults to coredis, which we do not install; redis-py is already here.
            options: dict[str, Any] = redis_options()
            storage = RedisStorage(
                f"async+{redis_url}", implementation="redispy", wrap_exceptions=True, **options
            )
            self._shared = MovingWindowRateLimiter(storage)
        self._retry_s = redis_retry_s
        self._down_since: float | None = None  # monotonic instant of the last Redis failure

    @property
    def shared(self) -> bool:
        """True while counts go to Redis (every node sees them)."""
        return self._shared is not None and self._down_since is None

    async def _run(self, op: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        shared, down_since = self._shared, self._down_since
        if shared is not None and (
            down_since is None or time.monotonic() - down_since >= self._retry_s
        ):
            try:
                result = await op(shared)
            except (StorageError, RedisError, OSError) as exc:
                if self._down_since is None:
                    log.error(
                        "Redis unreachable: rate limits count on this node only",
                        extra={"error": repr(exc)},
                    )
                self._down_since = time.monotonic()
            else:
                if self._down_since is not None:
                    log.warning("Redis is back: rate limits are shared again")
                    self._down_since = None
                return result
        return await op(self._memory)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return await self._run(lambda limiter: limiter.hit(item, *identifiers))

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        return await self._run(lambda limiter: limiter.get_window_stats(item, *identifiers))

    async def incr(self, key: str, expiry: int) -> int:
        return await self._run(lambda limiter: _storage(limiter).incr(key, expiry))

    async def get(self, key: str) -> int:
        return await self._run(lambda limiter: _storage(limiter).get(key))

    async def get_expiry(self, key: str) -> float:
        """When `key` expires, in `time.time()` seconds."""
        return await self._run(lambda limiter: _storage(limiter).get_expiry(key))


def _storage(limiter: MovingWindowRateLimiter) -> Storage:
    storage: Storage = limiter.storage
    return storage


def open_redis(redis_url: str) -> aioredis.Redis:
    client: aioredis.Redis = aioredis.from_url(redis_url, **redis_options())
    return client
