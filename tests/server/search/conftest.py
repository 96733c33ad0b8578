"""Search tests run once per backend: PostgreSQL always, Elasticsearch when a real cluster is
given in MARKINI_TEST_ELASTICSEARCH_URL (skipped otherwise, CI included)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import Settings
from storage.pool import _init_connection
from tests.conftest import EngineUrls, _dsn_for, delete_stream, make_settings
from tests.server.search.helpers import REAL_ES_URL, SearchEnv, drop_es_indices

BACKENDS = ["postgres", "elasticsearch"]


def _es_url(backend: str) -> str | None:
    if backend == "postgres":
        return None
    if not REAL_ES_URL:
        pytest.skip("MARKINI_TEST_ELASTICSEARCH_URL is not set (stand-in tests cover the adapter)")
    return REAL_ES_URL


@pytest.fixture(params=BACKENDS)
async def settings(
    request: pytest.FixtureRequest, database_url: str, engine_urls: EngineUrls, tmp_path: Path
) -> AsyncIterator[Settings]:
    """Overrides the suite's `settings`: the app, client and db fixtures then use this backend."""
    es_url = _es_url(request.param)
    settings = make_settings(database_url, engine_urls.nats_url, tmp_path, elasticsearch_url=es_url)
    yield settings
    await delete_stream(engine_urls.nats_url, settings.nats_stream)
    await drop_es_indices(settings)


@pytest.fixture(scope="module", params=BACKENDS)
async def search_env(
    request: pytest.FixtureRequest,
    engine_urls: EngineUrls,
    template_db: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[SearchEnv]:
    es_url = _es_url(request.param)
    name = f"mk_search_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(engine_urls.admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    dsn = _dsn_for(engine_urls.admin_dsn, name)
    settings = make_settings(
        dsn, engine_urls.nats_url, tmp_path_factory.mktemp("search"), elasticsearch_url=es_url
    )
    db = await asyncpg.connect(dsn)
    await _init_connection(db)
    app = create_app(settings)
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield SearchEnv(settings, c, db)
    finally:
        await db.close()
        await delete_stream(engine_urls.nats_url, settings.nats_stream)
        await drop_es_indices(settings)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
