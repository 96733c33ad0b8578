"""How many SQL statements one search request sends (issue #19): a fixed handful whatever the
number of results, so nothing grows per doctor (no N+1) and the catalogue is read once per app."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import Settings
from storage import pool as storage_pool
from tests.factories import make_doctor
from tests.server.search.helpers import NEARBY, SEARCH, SUGGEST, reindex_now

SENT: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("sent", default=None)


@pytest.fixture
async def client(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The app, its pool's connections logging each statement into SENT (when it is set).

    asyncpg calls query loggers with call_soon, in the context of the statement's task: the
    request's, as ASGITransport runs the app in the caller's task."""
    if settings.elasticsearch_url:
        pytest.skip("counts PostgreSQL statements")
    init = storage_pool._init_connection

    async def counting(con: asyncpg.Connection) -> None:
        await init(con)
        con.add_query_logger(lambda record: _record(record.query))

    monkeypatch.setattr(storage_pool, "_init_connection", counting)
    app = create_app(settings.model_copy(update={"redis_url": None}))  # every call hits SQL
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


def _record(query: str) -> None:
    if (sent := SENT.get()) is not None:
        sent.append(query)


async def _statements(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    sent: list[str] = []
    token = SENT.set(sent)
    try:
        response = await client.get(path, params=params)
    finally:
        SENT.reset(token)
    assert response.status_code == 200, response.text
    await asyncio.sleep(0)  # let the loggers scheduled by the last statement run
    return sent


async def test_a_search_sends_the_same_few_statements_for_one_or_many_doctors(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    for n in range(12):
        await make_doctor(db, settings, first_name="Lucie", last_name=f"Moreau{n}")
    await reindex_now(settings)
    first = await _statements(client, SEARCH, q="Lucie")
    assert any("doctors.specializations" in s for s in first)  # the catalogue, once per app

    cases: list[tuple[str, dict[str, Any], int]] = [
        # The search pool's connections carry the read settings (server/search/backend.py):
        # no BEGIN / SET / COMMIT, and no reset on release (pool.py). Typo corrections, search.
        (SEARCH, {"q": "Lucie", "size": 1}, 2),
        (SEARCH, {"q": "Lucie", "size": 12}, 2),
        (SEARCH, {"q": "Luc Mor"}, 1),  # no word long enough to correct: no typo corrections
        (SEARCH, {"city": "Paris", "sort": "rating"}, 1),  # no text: no typo corrections
        (SEARCH, {"lat": 48.86, "lon": 2.38, "radius": 10, "sort": "distance"}, 1),
        (NEARBY, {"lat": 48.86, "lon": 2.38}, 1),
        # specialties, then suggestions (words, doctors, cities) in one statement
        (SUGGEST, {"q": "luc"}, 2),
    ]
    for path, params, expected in cases:
        sent = await _statements(client, path, **params)
        assert not any("doctors.specializations" in s for s in sent)
        assert len(sent) == expected, (params, sent)
