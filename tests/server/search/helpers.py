"""Shared set-up for search tests: indexing now (the reindex path), waiting for the indexer (the
event path), calling the search API, and cleaning a real Elasticsearch cluster."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from server.search.backend import index_alias, open_search
from server.search.cache import SearchCache
from server.search.reindex import PhaseProgress, ReindexReport, reindex
from server.settings import Settings
from storage.pool import open_pool

# A real cluster for the behaviour tests; unset (CI) means Elasticsearch is proven only against
# the local stand-in in tests/storage/search.
REAL_ES_URL = os.environ.get("MARKINI_TEST_ELASTICSEARCH_URL")
SEARCH = "/api/v1/search/doctors"
SUGGEST = "/api/v1/search/suggestions"
NEARBY = "/api/v1/search/nearby"


@dataclass
class SearchEnv:
    """One app over one database, shared by a module's read-only tests."""

    settings: Settings
    client: httpx.AsyncClient
    db: asyncpg.Connection


async def reindex_now(settings: Settings, progress: PhaseProgress | None = None) -> ReindexReport:
    """What `markini search reindex` does, on the settings' database and backend."""
    assert settings.database_url is not None
    async with AsyncExitStack() as stack:
        pool = await stack.enter_async_context(open_pool(settings.database_url, 4))
        backend = await open_search(settings, settings.database_url, stack)
        redis = None
        if settings.redis_url:
            import redis.asyncio as aioredis

            redis = aioredis.from_url(settings.redis_url)
            stack.push_async_callback(redis.aclose)
        cache = SearchCache(redis, settings.nats_subject_prefix)
        if progress is None:
            return await reindex(pool, backend, cache)
        return await reindex(pool, backend, cache, progress)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15) -> None:
    """Poll until `check` holds: the indexer works asynchronously, behind the relay and NATS."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("the search index did not catch up in time")
        await asyncio.sleep(0.1)


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(SEARCH, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    return [item["name"] for item in (await search(client, **params))["items"]]


async def drop_es_indices(settings: Settings) -> None:
    if not settings.elasticsearch_url:
        return
    from elasticsearch import AsyncElasticsearch

    es = AsyncElasticsearch(settings.elasticsearch_url)
    try:
        await es.indices.delete(index=f"{index_alias(settings)}*", ignore_unavailable=True)
    finally:
        await es.close()
