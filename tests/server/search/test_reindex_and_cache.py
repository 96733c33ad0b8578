"""Rebuilding the index (function and `markini search reindex`), the sweeper for slots that time
has passed, and the Redis cache of popular queries with its invalidation."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from bus.events import DOCTOR_REVIEWED
from bus.outbox import emit
from server import clock
from server.app import create_app
from server.search.cache import SearchCache
from server.search.indexer import sweep_passed_slots
from server.settings import Settings
from storage.pool import open_pool
from storage.search.postgres import PostgresSearch
from tests.conftest import EngineUrls, delete_stream, make_settings
from tests.factories import make_doctor
from tests.server.scheduling.helpers import availability, put_availability
from tests.server.search.helpers import eventually, names, reindex_now, search


async def test_reindex_rebuilds_from_postgresql_and_reports_each_phase(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    kept = await make_doctor(db, settings, first_name="Lena", last_name="Fischer")
    dropped = await make_doctor(db, settings, first_name="Hugo", last_name="Blanc")
    await make_doctor(db, settings, verified=False, first_name="Eve", last_name="Noir")
    await put_availability(client, kept, availability(notice=0))
    seen: list[tuple[str, int, int]] = []

    report = await reindex_now(settings, lambda *step: seen.append(step))

    assert (report.doctors, report.indexed, report.with_availability) == (3, 2, 1)
    assert sorted(await names(client)) == ["Hugo Blanc", "Lena Fischer"]
    assert ("profiles", 3, 3) in seen and ("availability", 1, 1) in seen
    [card] = (await search(client, q="Fischer"))["items"]
    assert card["next_available"] is not None and card["visit_types"] == ["in-person"]

    await db.execute(
        "UPDATE doctors.doctors SET verification_status = 'rejected' WHERE id = $1", dropped.id
    )
    await reindex_now(settings)
    assert await names(client) == ["Lena Fischer"]


async def test_cli_reindex_draws_a_progress_bar_on_stderr(
    engine_urls: EngineUrls, database_url: str, tmp_path: Path
) -> None:
    stream = f"TCLI{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "MARKINI_DATABASE_URL": database_url,
        "MARKINI_NATS_URL": engine_urls.nats_url,
        "MARKINI_NATS_STREAM": stream,
        "MARKINI_NATS_SUBJECT_PREFIX": stream.lower(),
        "MARKINI_DATA_DIR": str(tmp_path),
        "MARKINI_ENV": "test",
    }
    command = [sys.executable, "-m", "server.cli", "search", "reindex"]
    try:
        done = await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        await delete_stream(engine_urls.nats_url, stream)
    assert done.returncode == 0, done.stderr
    assert "profiles" in done.stderr and "100%" in done.stderr and "[" in done.stderr


async def test_sweeper_refreshes_a_next_slot_that_time_has_passed(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, first_name="Tom", last_name="Girard")
    await put_availability(client, doctor, availability(notice=0))
    await reindex_now(settings)
    past = clock.now() - timedelta(hours=1)
    await db.execute("UPDATE search.doctor_index SET next_in_person = $1", past)
    assert settings.database_url is not None
    async with open_pool(settings.database_url, 3) as pool:
        cache = SearchCache(None, settings.nats_subject_prefix)
        assert await sweep_passed_slots(pool, PostgresSearch(pool), cache) == 1
    shown = await db.fetchval("SELECT next_in_person FROM search.doctor_index")
    assert shown > clock.now()


@pytest.fixture
async def cached_client(
    database_url: str, engine_urls: EngineUrls, redis_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(database_url, engine_urls.nats_url, tmp_path, redis_url=redis_url)
    app = create_app(settings)
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c
    finally:
        await delete_stream(engine_urls.nats_url, settings.nats_stream)


async def test_popular_queries_are_served_from_redis_until_the_index_changes(
    cached_client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    client = cached_client
    doctor = await make_doctor(db, settings, first_name="Rosa", last_name="Lambert")
    await reindex_now(settings)
    assert (await search(client, q="Lambert"))["items"][0]["rating"] == 0
    # Behind the indexer's back: a cached answer cannot see this...
    await db.execute("UPDATE search.doctor_index SET rating = 1.5")
    assert (await search(client, q="Lambert"))["items"][0]["rating"] == 0
    assert (await search(client, q="lambert"))["items"][0]["rating"] == 1.5  # another query

    # ...but any change the indexer makes retires every cached answer.
    await db.execute("UPDATE doctors.doctors SET rating = 4.4, total_reviews = 1")
    async with db.transaction():
        await emit(
            db,
            DOCTOR_REVIEWED,
            f"doctor:{doctor.id}",
            {
                "doctor_id": str(doctor.id),
                "review_id": str(doctor.id),
                "rating": 4,
                "average_rating": 4.4,
                "total_reviews": 1,
            },
            at=clock.now(),
        )

    async def fresh() -> bool:
        return bool((await search(client, q="Lambert"))["items"][0]["rating"] == 4.4)

    await eventually(fresh)
