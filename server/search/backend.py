"""Choose the search backend from settings: Elasticsearch when MARKINI_ELASTICSEARCH_URL is set,
else PostgreSQL (nothing to install)."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from elasticsearch import AsyncElasticsearch

from server.settings import Settings
from storage.pool import open_pool
from storage.search.base import SearchBackend
from storage.search.elasticsearch import ElasticsearchSearch
from storage.search.pg_queries import READ_SETTINGS
from storage.search.postgres import PostgresSearch

log = logging.getLogger(__name__)

# A search answer later than this is worse than an error page the client can retry.
ES_REQUEST_TIMEOUT_S = 10


def index_alias(settings: Settings) -> str:
    # Deployments (and test runs) sharing a cluster are told apart by their event namespace.
    return f"{settings.nats_subject_prefix.lower()}-doctors"


async def open_search(settings: Settings, dsn: str, stack: AsyncExitStack) -> SearchBackend:
    if not settings.elasticsearch_url:
        # Its own pool, whose connections carry the read settings from the start: a search
        # request is its statements alone (no BEGIN / SET / COMMIT round trips around them).
        reader = await stack.enter_async_context(
            open_pool(dsn, settings.db_pool_max, READ_SETTINGS)
        )
        return PostgresSearch(reader)
    client = AsyncElasticsearch(
        settings.elasticsearch_url, request_timeout=ES_REQUEST_TIMEOUT_S, max_retries=2
    )
    backend = ElasticsearchSearch(client, index_alias(settings))
    stack.push_async_callback(backend.close)
    await backend.ensure_index()
    log.info("search backend: elasticsearch", extra={"alias": backend.alias})
    return backend
