"""Migrations are idempotent and safe when two processes start at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from storage.migrate import discover, migrate
from tests.conftest import EngineUrls, _dsn_for


@pytest.fixture
async def empty_database(engine_urls: EngineUrls) -> AsyncIterator[str]:
    name = f"mk_empty_{uuid.uuid4().hex[:10]}"
    con = await asyncpg.connect(engine_urls.admin_dsn)
    await con.execute(f'CREATE DATABASE "{name}"')
    yield _dsn_for(engine_urls.admin_dsn, name)
    await con.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await con.close()


async def test_two_concurrent_runners_apply_each_migration_once(empty_database: str) -> None:
    first, second = await asyncio.gather(migrate(empty_database), migrate(empty_database))
    every = [m.version for m in discover()]
    assert sorted(first + second) == every  # split between the two, never applied twice
    con = await asyncpg.connect(empty_database)
    try:
        recorded = [r["version"] for r in await con.fetch("SELECT version FROM schema_migrations")]
    finally:
        await con.close()
    assert sorted(recorded) == every


async def test_rerunning_migrations_applies_nothing(empty_database: str) -> None:
    await migrate(empty_database)
    assert await migrate(empty_database) == []


async def test_a_failing_migration_rolls_back_and_is_not_recorded(
    empty_database: str, tmp_path: object
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE good (id int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (id int); SELECT no_such_fn();")
    with pytest.raises(asyncpg.UndefinedFunctionError):
        await migrate(empty_database, tmp_path)
    con = await asyncpg.connect(empty_database)
    try:
        assert await con.fetchval("SELECT to_regclass('half')") is None
        recorded = await con.fetch("SELECT version FROM schema_migrations")
        assert [r["version"] for r in recorded] == [1]
    finally:
        await con.close()
