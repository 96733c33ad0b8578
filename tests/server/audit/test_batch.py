"""The audit middleware's own entries are written in groups (storage.group)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from server import clock
from server.audit.middleware import append_entries
from storage.audit import NewAuditLog
from storage.pool import open_pool
from tests.server.audit.helpers import accept_audit_rows, refuse_audit_rows


def _entry(n: int) -> NewAuditLog:
    payload = {"n": n, "text": "é\u2028"} if n % 2 else None
    return NewAuditLog(action=f"POST /x/{n}", occurred_at=clock.now(), request_payload=payload,
                       response_status=409)  # fmt: skip


async def test_a_rush_of_entries_takes_few_statements_and_keeps_every_entry_in_order(
    database_url: str, db: asyncpg.Connection
) -> None:
    statements: list[str] = []
    async with open_pool(database_url, max_size=1) as pool:
        async with pool.acquire() as con:
            con.add_query_logger(lambda record: statements.append(record.query))
        statements.clear()
        await asyncio.gather(*(append_entries(pool, _entry(n)) for n in range(50)))
    inserts = [q for q in statements if "INSERT INTO audit.logs" in q]
    assert 1 <= len(inserts) <= 3  # the first alone, then the ones that came meanwhile
    rows = await db.fetch(
        "SELECT action, request_payload, response_status FROM audit.logs ORDER BY append_id"
    )
    assert [r["action"] for r in rows] == [f"POST /x/{n}" for n in range(50)]
    assert rows[1]["request_payload"] == {"n": 1, "text": "é\u2028"}
    assert rows[0]["request_payload"] is None
    assert {r["response_status"] for r in rows} == {409}


async def test_a_group_that_cannot_be_written_refuses_each_of_its_requests(
    database_url: str, db: asyncpg.Connection
) -> None:
    async with open_pool(database_url, max_size=1) as pool:
        await refuse_audit_rows(db)
        outcomes = await asyncio.gather(
            *(append_entries(pool, _entry(n)) for n in range(5)), return_exceptions=True
        )
        assert all(isinstance(o, asyncpg.PostgresError) for o in outcomes)
        await accept_audit_rows(db)
        await append_entries(pool, _entry(9))
    assert await db.fetchval("SELECT count(*) FROM audit.logs") == 1


@pytest.fixture(autouse=True)
async def _empty_log(db: asyncpg.Connection) -> None:
    assert await db.fetchval("SELECT count(*) FROM audit.logs") == 0
