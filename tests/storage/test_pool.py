"""The pool hands a connection back without asyncpg's reset round trip (issue #19), yet never
with a transaction left open."""

from __future__ import annotations

import asyncpg
import pytest

from storage.pool import open_pool
from storage.search.pg_queries import READ_SETTINGS


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


async def test_the_search_pool_reads_with_its_settings_and_writes_nothing(
    database_url: str,
) -> None:
    """The search pool's settings come with each connection (no statement per request): the
    pg_trgm threshold the typo corrections need, and read-only transactions."""
    async with open_pool(database_url, max_size=1, server_settings=READ_SETTINGS) as pool:
        assert await pool.fetchval("SHOW pg_trgm.word_similarity_threshold") == "0.5"
        assert await pool.fetchval("SELECT word_similarity('lefebre', 'lefevre') >= 0.5")
        assert await pool.fetchval("SELECT 'lefevre' %> 'lefebre'")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await pool.execute("CREATE TEMP TABLE written (x int)")
