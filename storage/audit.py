"""Audit log queries. Rows are inserted unsealed; `seal` chains them (seq, prev_hash, hash)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

# Rows are read back with exactly these columns everywhere.
_COLUMNS = """append_id, seq, id, occurred_at, user_id, role, action, resource_type, resource_id,
              ip_address, user_agent, request_id, request_payload, response_status,
              prev_hash, hash, sealed_at"""


@dataclass(frozen=True)
class NewAuditLog:
    action: str
    occurred_at: datetime
    user_id: uuid.UUID | None = None
    role: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    request_payload: Any = None
    response_status: int | None = None


@dataclass(frozen=True)
class LogFilter:
    user_id: uuid.UUID | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    action: str | None = None
    occurred_from: datetime | None = None  # inclusive
    occurred_to: datetime | None = None  # exclusive
    before_append_id: int | None = None  # keyset cursor: rows appended before this one


async def insert_log(con: asyncpg.Connection, log: NewAuditLog, table: str = "audit.logs") -> None:
    """Insert one unsealed row: a plain INSERT, no lock beyond the caller's transaction.

    `table` is for bench/audit_append.py, which runs the same INSERT on copies of the table.
    """
    await con.execute(
        f"""INSERT INTO {table} (occurred_at, user_id, role, action, resource_type, resource_id,
                                 ip_address, user_agent, request_id, request_payload,
                                 response_status)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        log.occurred_at,
        log.user_id,
        log.role,
        log.action,
        log.resource_type,
        log.resource_id,
        log.ip_address,
        log.user_agent,
        log.request_id,
        log.request_payload,
        log.response_status,
    )


async def insert_logs(con: asyncpg.Connection, logs: list[NewAuditLog]) -> None:
    """Insert `logs` unsealed in one statement, in this order (what insert_log does for one)."""
    await con.execute(
        """INSERT INTO audit.logs (occurred_at, user_id, role, action, resource_type, resource_id,
                                  ip_address, user_agent, request_id, request_payload,
                                  response_status)
           SELECT r.occurred_at, r.user_id, r.role, r.action, r.resource_type, r.resource_id,
                  r.ip_address, r.user_agent, r.request_id, e.value -> 'request_payload',
                  r.response_status
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e (value, n),
                jsonb_populate_record(NULL::audit.logs, e.value) AS r
           ORDER BY e.n""",
        [log_json(log) for log in logs],
    )


async def log_stored(db: asyncpg.Connection | asyncpg.Pool, entry: NewAuditLog) -> bool:
    """Whether `entry` was stored (committed): found by its instant (logs_occurred_at)."""
    stored: bool = await db.fetchval(
        """SELECT EXISTS (SELECT 1 FROM audit.logs
                          WHERE occurred_at = $1 AND action = $2 AND response_status = $3
                            AND request_id IS NOT DISTINCT FROM $4)""",
        entry.occurred_at,
        entry.action,
        entry.response_status,
        entry.request_id,
    )
    return stored


def log_json(entry: NewAuditLog) -> dict[str, Any]:
    """`entry` as JSON, audit.logs columns by name (insert_logs, scheduling.book_slot_audited);
    no request_payload key when there is none (a SQL null, as insert_log writes it)."""
    row: dict[str, Any] = {
        "occurred_at": entry.occurred_at.isoformat(),
        "user_id": str(entry.user_id) if entry.user_id is not None else None,
        "role": entry.role,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "ip_address": entry.ip_address,
        "user_agent": entry.user_agent,
        "request_id": entry.request_id,
        "response_status": entry.response_status,
    }
    if entry.request_payload is not None:
        row["request_payload"] = entry.request_payload
    return row


async def seal(con: asyncpg.Connection, lock_key: int, max_rows: int, at: datetime) -> int | None:
    """Chain up to `max_rows` committed unsealed rows; None when another sealer holds the lock.

    Runs in its own transaction; the advisory lock is the transaction's, so a crashed sealer
    frees it with its connection.
    """
    async with con.transaction():
        if not await con.fetchval("SELECT pg_try_advisory_xact_lock($1)", lock_key):
            return None
        sealed: int = await con.fetchval("SELECT audit.seal($1, $2)", max_rows, at)
        return sealed


async def oldest_unsealed(con: asyncpg.Connection, before: datetime) -> asyncpg.Record | None:
    """The first visible unsealed row that occurred before `before` (id, occurred_at)."""
    record: asyncpg.Record | None = await con.fetchrow(
        """SELECT id, occurred_at FROM audit.logs
           WHERE seq IS NULL AND occurred_at < $1 ORDER BY append_id LIMIT 1""",
        before,
    )
    return record


async def unsealed_count(con: asyncpg.Connection) -> int:
    count: int = await con.fetchval("SELECT count(*) FROM audit.logs WHERE seq IS NULL")
    return count


async def list_logs(con: asyncpg.Connection, where: LogFilter, limit: int) -> list[asyncpg.Record]:
    """Newest first. Call inside a transaction: the optional filters need per-call plans."""
    # A generic plan would keep "$1 IS NULL OR ..." and scan everything; a custom plan folds the
    # unused filters away and can use the indexes.
    await con.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    records: list[asyncpg.Record] = await con.fetch(
        f"""SELECT {_COLUMNS} FROM audit.logs
            WHERE ($1::uuid IS NULL OR user_id = $1)
              AND ($2::text IS NULL OR resource_type = $2)
              AND ($3::text IS NULL OR resource_id = $3)
              AND ($4::text IS NULL OR action = $4)
              AND ($5::timestamptz IS NULL OR occurred_at >= $5)
              AND ($6::timestamptz IS NULL OR occurred_at < $6)
              AND ($7::bigint IS NULL OR append_id < $7)
            ORDER BY append_id DESC
            LIMIT $8""",
        where.user_id,
        where.resource_type,
        where.resource_id,
        where.action,
        where.occurred_from,
        where.occurred_to,
        where.before_append_id,
        limit,
    )
    return records


async def chain_head(con: asyncpg.Connection) -> asyncpg.Record:
    """The last appended (seq, hash); (0, 64 zeros) for an empty log."""
    record: asyncpg.Record = await con.fetchrow(
        "SELECT seq, hash FROM audit.chain_head WHERE singleton"
    )
    return record


async def iter_chain(
    con: asyncpg.Connection, prefetch: int = 1000
) -> AsyncIterator[asyncpg.Record]:
    """Every sealed row in chain order with its canonical text; needs an open transaction."""
    cursor = con.cursor(
        """SELECT seq, id, prev_hash, hash, audit.canonical(l) AS canonical
           FROM audit.logs l WHERE seq IS NOT NULL ORDER BY seq""",
        prefetch=prefetch,
    )
    async for record in cursor:
        yield record
