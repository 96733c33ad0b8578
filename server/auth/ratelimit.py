"""Moving-window rate limits on credential-guessing endpoints (shared across nodes via Redis)."""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time

from limits import RateLimitItem, parse

from server.errors import TOO_MANY_ATTEMPTS, RateLimited
from server.ratelimit import Limiter

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=32)
def parse_limit(spec: str) -> RateLimitItem:
    item: RateLimitItem = parse(spec)
    return item


def hashed(value: str) -> str:
    # Emails and addresses are personal data and need not sit in Redis in clear.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


async def enforce(limiter: Limiter, spec: str, action: str, keys: dict[str, str]) -> None:
    """Count one attempt against each key (e.g. {"ip": ..., "email": ...}), in order.

    The first exhausted key refuses the request (429 with Retry-After) and later keys are not
    charged, so a flood from one address does not also lock the accounts it names.
    """
    item = parse_limit(spec)
    for kind, value in keys.items():
        key = hashed(value)
        if not await limiter.hit(item, "auth", action, kind, key):
            stats = await limiter.get_window_stats(item, "auth", action, kind, key)
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            log.warning("rate limited", extra={"action": action, "key_kind": kind})
            raise RateLimited(TOO_MANY_ATTEMPTS, retry_after=retry_after)
