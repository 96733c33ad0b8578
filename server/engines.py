"""Open every engine the app needs (real or embedded) inside one AsyncExitStack."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from bus.embedded import embedded_nats
from bus.nats import Bus, connect_bus
from server.payments.gateway import Gateway, open_gateway
from server.ratelimit import Limiter, open_redis
from server.search.backend import open_search
from server.settings import Settings
from storage.embedded import embedded_postgres
from storage.migrate import migrate
from storage.pool import open_pool
from storage.search.base import SearchBackend

log = logging.getLogger(__name__)


@dataclass
class Engines:
    settings: Settings
    pool: asyncpg.Pool
    bus: Bus
    redis: aioredis.Redis | None
    limiter: Limiter  # on Redis when configured and reachable, else this node's memory
    search: SearchBackend  # doctor search: Elasticsearch, or PostgreSQL when none is set
    # Stripe or localstripe when payments are on (settings.payments_required), else None.
    payments: Gateway | None = None


async def database_url(settings: Settings, stack: AsyncExitStack) -> str:
    if settings.database_url:
        return settings.database_url
    return await stack.enter_async_context(embedded_postgres(settings.data_dir))


async def nats_url(settings: Settings, stack: AsyncExitStack) -> str:
    if settings.nats_url:
        return settings.nats_url
    return await stack.enter_async_context(embedded_nats(settings.data_dir))


async def open_engines(settings: Settings, stack: AsyncExitStack) -> Engines:
    dsn = await database_url(settings, stack)
    await migrate(dsn)
    pool = await stack.enter_async_context(open_pool(dsn, settings.db_pool_max))
    bus = await stack.enter_async_context(
        connect_bus(
            await nats_url(settings, stack), settings.nats_stream, settings.nats_subject_prefix
        )
    )
    redis: aioredis.Redis | None = None
    if settings.redis_url:
        redis = open_redis(settings.redis_url)
        stack.push_async_callback(redis.aclose)
    limiter = Limiter(settings.redis_url, settings.redis_retry_s)
    search = await open_search(settings, dsn, stack)
    payments = None
    if settings.payments_required:
        payments = await stack.enter_async_context(open_gateway(settings, stack))
    return Engines(settings, pool, bus, redis, limiter, search, payments)
