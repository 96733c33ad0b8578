"""Popular-query cache in Redis (when configured), invalidated by a generation counter.

Every index change bumps the generation and the generation is part of every key, so one INCR
retires all cached answers at once; the old entries simply expire. The cache is an
optimisation: when Redis fails, searches go to the backend and the failure is only logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

# Short enough that "next available" shown from the cache is at most this stale when time
# alone (no event) moves a slot into the past.
CACHE_TTL_S = 30


class SearchCache:
    def __init__(self, redis: aioredis.Redis | None, namespace: str) -> None:
        self._redis = redis
        # Deployments sharing one Redis are told apart by their event namespace.
        self._prefix = f"{namespace}:search"

    @property
    def generation_key(self) -> str:
        return f"{self._prefix}:generation"

    def _key(self, generation: int, kind: str, params: Mapping[str, Any]) -> str:
        canonical = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
        return f"{self._prefix}:{generation}:{kind}:{digest}"

    async def lookup(self, kind: str, params: Mapping[str, Any]) -> tuple[str | None, bytes | None]:
        """(key to store the answer under, cached answer); (None, None) without Redis."""
        if self._redis is None:
            return None, None
        try:
            generation = int(await self._redis.get(self.generation_key) or 0)
            key = self._key(generation, kind, params)
            cached = await self._redis.get(key)
            return key, cached.encode() if isinstance(cached, str) else cached
        except aioredis.RedisError as exc:
            log.warning("search cache unavailable", extra={"error": repr(exc)})
            return None, None

    async def store(self, key: str | None, body: bytes) -> None:
        # The key was made with the generation read before searching: if the index changed
        # meanwhile, the answer lands under a retired generation and is never read.
        if self._redis is None or key is None:
            return
        try:
            await self._redis.set(key, body, ex=CACHE_TTL_S)
        except aioredis.RedisError as exc:
            log.warning("search cache unavailable", extra={"error": repr(exc)})

    async def invalidate(self) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.incr(self.generation_key)
        except aioredis.RedisError as exc:
            log.warning("search cache not invalidated", extra={"error": repr(exc)})
