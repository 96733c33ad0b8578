"""The pool hands a connection back without asyncpg's reset round trip (issue #19), yet never
with a transaction left open."""

from __future__ import annotations

import asyncpg

from storage.pool import open_pool


async def test_a_release_sends_nothing_and_a_left_open_transaction_is_rolled_back(
    database_url: str,
) -> None:
    async with open_pool(database_url, max_size=1) as pool:
        sent: list[str] = []
        async with pool.acquire() as con:
            con.add_query_logger(lambda record: sent.append(record.query))
            await con.fetchval("SELECT 1")
        assert sent == ["SELECT 1"]  # no pg_advisory_unlock_all(); CLOSE ALL; ... on release

        async with pool.acquire() as con:
            await con.execute("BEGIN")
            await con.execute("CREATE TEMP TABLE left_open (x int) ON COMMIT DROP")
        async with pool.acquire() as con:
            assert not con.is_in_transaction()
            assert await con.fetchval("SELECT to_regclass('pg_temp.left_open')") is None


async def test_the_pool_decodes_json(database_url: str) -> None:
    async with open_pool(database_url, max_size=1) as pool:
        assert await pool.fetchval("SELECT '{\"a\": 1}'::jsonb") == {"a": 1}
        assert isinstance(pool, asyncpg.Pool)
