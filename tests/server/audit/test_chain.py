"""The audit log is append-only and hash-chained by the sealer: tampering shows, concurrency does
not fork it, late commits are not skipped and a crash before sealing loses nothing."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from server import clock
from server.audit.sealer import SEAL_LOCK_KEY, seal_pending
from server.audit.service import GENESIS_HASH, append, record_access, verify_chain
from server.auth.principal import Principal
from server.settings import Settings
from storage.audit import NewAuditLog
from storage.pool import open_pool

DOCTOR = Principal(uuid.uuid4(), "doctor", uuid.uuid4())


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with open_pool(database_url, max_size=20) as p:
        yield p


async def _append(pool: asyncpg.Pool, count: int, *, sealed: bool = True) -> None:
    for index in range(count):
        await record_access(
            pool,
            principal=DOCTOR,
            action="medical_history.read",
            resource_type="patient",
            resource_id=f"p-{index}",
            payload={"query": "recent", "diagnosis": "secret"},
        )
    if sealed:
        await seal_pending(pool)


def _entry(resource_id: str) -> NewAuditLog:
    return NewAuditLog(
        action="patient_profile.read", occurred_at=clock.now(), resource_id=resource_id
    )


async def _tamper(
    db: asyncpg.Connection, sql: str, *args: object, trigger: str = "logs_append_only"
) -> None:
    """What only a superuser can do: bypass the append-only triggers."""
    await db.execute(f"ALTER TABLE audit.logs DISABLE TRIGGER {trigger}")
    try:
        await db.execute(sql, *args)
    finally:
        await db.execute(f"ALTER TABLE audit.logs ENABLE TRIGGER {trigger}")


async def test_record_access_appends_unsealed_and_the_sealer_chains_and_masks(
    pool: asyncpg.Pool,
) -> None:
    await _append(pool, 2, sealed=False)
    rows = await pool.fetch("SELECT seq, prev_hash, hash, sealed_at FROM audit.logs")
    assert [tuple(r) for r in rows] == [(None, None, None, None)] * 2
    assert await seal_pending(pool) == 2
    assert await seal_pending(pool) == 0
    first, second = await pool.fetch("SELECT * FROM audit.logs ORDER BY seq")
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["prev_hash"] == GENESIS_HASH
    assert second["prev_hash"] == first["hash"]
    assert first["user_id"] == DOCTOR.user_id and first["role"] == "doctor"
    assert first["request_payload"] == {"query": "recent", "diagnosis": "***"}
    assert first["response_status"] == 200


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit.logs SET action = 'nothing happened'",
        "DELETE FROM audit.logs",
        "TRUNCATE audit.logs",
        "UPDATE audit.chain_head SET hash = repeat('0', 64)",
        "DELETE FROM audit.chain_head",
        # a forged, already "sealed" row
        """INSERT INTO audit.logs (action, seq, prev_hash, hash, sealed_at)
           VALUES ('forged', 2, repeat('0', 64), repeat('0', 64), now())""",
        # sealing an unsealed row is the one update, and only the sealer's
        "UPDATE audit.logs SET seq = 9, prev_hash = '', hash = '', sealed_at = now(), role = 'x'",
    ],
)
async def test_changing_or_removing_entries_is_refused(
    pool: asyncpg.Pool, db: asyncpg.Connection, statement: str
) -> None:
    await _append(pool, 1)
    await _append(pool, 1, sealed=False)
    with pytest.raises(
        asyncpg.InsufficientPrivilegeError, match="append-only|only advances|appended unsealed"
    ):
        await db.execute(statement)
    assert await db.fetchval("SELECT count(*) FROM audit.logs") == 2
    assert (await verify_chain(pool)).ok


async def test_verify_passes_on_an_intact_chain(pool: asyncpg.Pool) -> None:
    empty = await verify_chain(pool)
    assert (empty.ok, empty.checked) == (True, 0)
    await _append(pool, 5)
    report = await verify_chain(pool)
    assert (report.ok, report.checked, report.head_seq) == (True, 5, 5)
    assert report.describe().startswith("OK")


async def test_verify_finds_an_altered_entry(pool: asyncpg.Pool, db: asyncpg.Connection) -> None:
    await _append(pool, 5)
    await _tamper(
        db, """UPDATE audit.logs SET request_payload = '{"query": "old"}' WHERE seq = 3"""
    )
    report = await verify_chain(pool)
    assert not report.ok
    assert report.broken_seq == 3
    assert report.broken_id == await db.fetchval("SELECT id FROM audit.logs WHERE seq = 3")
    assert "altered" in (report.reason or "")


async def test_verify_finds_an_entry_rehashed_after_alteration(
    pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    await _append(pool, 4)
    # A forger who also recomputes the altered entry's hash still breaks the next link.
    await _tamper(
        db,
        """UPDATE audit.logs l SET resource_id = 'someone-else',
               hash = encode(sha256(convert_to(l.prev_hash || audit.canonical(
                   (l.seq, l.id, l.occurred_at, l.user_id, l.role, l.action, l.resource_type,
                    'someone-else', l.ip_address, l.user_agent, l.request_id, l.request_payload,
                    l.response_status, l.prev_hash, l.hash, l.append_id,
                    l.sealed_at)::audit.logs), 'UTF8')), 'hex')
           WHERE seq = 2""",
    )
    report = await verify_chain(pool)
    assert (report.ok, report.broken_seq) == (False, 3)


async def test_verify_finds_removed_entries(pool: asyncpg.Pool, db: asyncpg.Connection) -> None:
    await _append(pool, 5)
    await _tamper(db, "DELETE FROM audit.logs WHERE seq = 2")
    middle = await verify_chain(pool)
    assert (middle.ok, middle.broken_seq) == (False, 3)
    assert "missing" in (middle.reason or "")

    await _tamper(db, "DELETE FROM audit.logs WHERE seq >= 2")
    tail = await verify_chain(pool)
    assert (tail.ok, tail.checked, tail.head_seq) == (False, 1, 5)
    assert "removed from the end" in (tail.reason or "")


async def test_verify_finds_an_inserted_entry_and_names_it(
    pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    await _append(pool, 3)
    forged = uuid.uuid4()
    # Even with a correct link and hash, a row the sealer did not chain lies beyond the head.
    await _tamper(
        db,
        """INSERT INTO audit.logs (id, action, seq, prev_hash, hash, sealed_at)
           SELECT $1, 'forged', 4, l.hash, 'x', now() FROM audit.logs l WHERE seq = 3""",
        forged,
        trigger="logs_insert_unsealed",
    )
    await _tamper(
        db,
        """UPDATE audit.logs l SET hash = encode(sha256(convert_to(
               l.prev_hash || audit.canonical(l), 'UTF8')), 'hex') WHERE seq = 4""",
    )
    report = await verify_chain(pool)
    assert (report.ok, report.broken_seq, report.broken_id) == (False, 4, forged)
    assert "inserted" in (report.reason or "")


async def test_a_row_committing_after_a_later_one_is_sealed_not_skipped(
    pool: asyncpg.Pool,
) -> None:
    # The slow transaction takes the smaller append_id, then commits after a faster one was
    # sealed: sealing by "append_id above the last sealed" would skip it forever.
    async with pool.acquire() as slow, slow.transaction():
        await append(slow, _entry("slow"))
        async with pool.acquire() as fast:
            await append(fast, _entry("fast"))
        assert await seal_pending(pool) == 1
    assert await seal_pending(pool) == 1
    rows = await pool.fetch("SELECT resource_id, append_id, seq FROM audit.logs ORDER BY seq")
    assert [(r["resource_id"], r["seq"]) for r in rows] == [("fast", 1), ("slow", 2)]
    assert rows[1]["append_id"] < rows[0]["append_id"]
    assert (await verify_chain(pool)).ok


async def test_an_entry_rolled_back_with_its_transaction_never_reaches_the_chain(
    pool: asyncpg.Pool,
) -> None:
    with pytest.raises(RuntimeError):
        async with pool.acquire() as con, con.transaction():
            await append(con, _entry("undone"))
            raise RuntimeError("the change failed")
    assert await seal_pending(pool) == 0
    assert await pool.fetchval("SELECT count(*) FROM audit.logs") == 0


async def test_rows_left_unsealed_by_a_crash_are_reported_then_sealed_on_restart(
    pool: asyncpg.Pool,
) -> None:
    # Appended and committed, then the node died before its sealer ran.
    await _append(pool, 3, sealed=False)
    fresh = await verify_chain(pool)
    assert (fresh.ok, fresh.unsealed) == (True, 3)
    stale = await verify_chain(pool, max_unsealed_age=timedelta(0))
    first = await pool.fetchval("SELECT id FROM audit.logs ORDER BY append_id LIMIT 1")
    assert (stale.ok, stale.broken_id) == (False, first)
    assert stale.describe().startswith(f"UNSEALED entry (id {first})")
    # The next sealer, on any node, seals them.
    assert await seal_pending(pool) == 3
    report = await verify_chain(pool, max_unsealed_age=timedelta(0))
    assert (report.ok, report.checked, report.unsealed) == (True, 3, 0)


async def test_fifty_concurrent_appends_and_five_sealers_keep_one_chain(
    pool: asyncpg.Pool,
) -> None:
    appends = (
        record_access(
            pool,
            principal=DOCTOR,
            action="patient_profile.read",
            resource_type="patient",
            resource_id=str(index),
        )
        for index in range(50)
    )
    await asyncio.gather(*appends, *(seal_pending(pool, batch=7) for _ in range(5)))
    await seal_pending(pool)
    seqs = [r["seq"] for r in await pool.fetch("SELECT seq FROM audit.logs ORDER BY seq")]
    assert seqs == list(range(1, 51))
    report = await verify_chain(pool)
    assert (report.ok, report.checked) == (True, 50)


async def _cli_verify(settings: Settings) -> tuple[int, str]:
    env = {
        **os.environ,
        "MARKINI_ENV": "test",
        "MARKINI_DATABASE_URL": settings.database_url or "",
        "MARKINI_DATA_DIR": str(settings.data_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "audit",
        "verify",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_cli_verify_exits_1_on_a_broken_chain(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings
) -> None:
    await _append(pool, 3)
    code, out = await _cli_verify(settings)
    assert (code, out.split(":")[0]) == (0, "OK")

    await _tamper(db, "UPDATE audit.logs SET action = 'nothing to see' WHERE seq = 2")
    code, out = await _cli_verify(settings)
    broken_id = await db.fetchval("SELECT id FROM audit.logs WHERE seq = 2")
    assert code == 1
    assert out.startswith(f"BROKEN at seq 2 (id {broken_id})")


async def test_one_sealer_at_a_time_across_nodes(pool: asyncpg.Pool) -> None:
    await _append(pool, 2, sealed=False)
    async with pool.acquire() as other_node, other_node.transaction():
        # Another node is sealing: this one skips its round and leaves the rows to it.
        await other_node.execute("SELECT pg_advisory_xact_lock($1)", SEAL_LOCK_KEY)
        assert await seal_pending(pool) == 0
        assert await pool.fetchval("SELECT count(*) FROM audit.logs WHERE seq IS NULL") == 2
    assert await seal_pending(pool) == 2
