"""The audit log is append-only and hash-chained: tampering shows, concurrency does not fork it."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from server.audit.service import GENESIS_HASH, record_access, verify_chain
from server.auth.principal import Principal
from server.settings import Settings
from storage.pool import open_pool

DOCTOR = Principal(uuid.uuid4(), "doctor", uuid.uuid4())


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with open_pool(database_url, max_size=20) as p:
        yield p


async def _append(pool: asyncpg.Pool, count: int) -> None:
    for index in range(count):
        await record_access(
            pool,
            principal=DOCTOR,
            action="medical_history.read",
            resource_type="patient",
            resource_id=f"p-{index}",
            payload={"query": "recent", "diagnosis": "secret"},
        )


async def _tamper(db: asyncpg.Connection, sql: str, *args: object) -> None:
    """What only a superuser can do: bypass the append-only trigger."""
    await db.execute("ALTER TABLE audit.logs DISABLE TRIGGER logs_append_only")
    try:
        await db.execute(sql, *args)
    finally:
        await db.execute("ALTER TABLE audit.logs ENABLE TRIGGER logs_append_only")


async def test_record_access_chains_entries_and_masks_the_payload(pool: asyncpg.Pool) -> None:
    await _append(pool, 2)
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
    ],
)
async def test_changing_or_removing_entries_is_refused(
    pool: asyncpg.Pool, db: asyncpg.Connection, statement: str
) -> None:
    await _append(pool, 1)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only|only advances"):
        await db.execute(statement)
    assert await db.fetchval("SELECT count(*) FROM audit.logs") == 1
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
                    l.response_status, l.prev_hash, l.hash)::audit.logs), 'UTF8')), 'hex')
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


async def test_fifty_concurrent_appends_keep_one_chain(pool: asyncpg.Pool) -> None:
    await asyncio.gather(
        *(
            record_access(
                pool,
                principal=DOCTOR,
                action="patient_profile.read",
                resource_type="patient",
                resource_id=str(index),
            )
            for index in range(50)
        )
    )
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
