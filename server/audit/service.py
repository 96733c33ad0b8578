"""Audit rules: append entries (middleware and explicit reads), list them, verify the chain.

Every entry joins one hash chain kept by the database (storage/migrations/0003_audit.sql):
`hash = sha256(prev_hash || audit.canonical(row))`, appends serialised on a one-row chain head.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
from starlette.requests import HTTPConnection

from server.audit.masking import mask
from server.audit.schemas import AuditEntry, AuditPage, AuditQuery, ChainReport
from server.auth.principal import Principal
from server.errors import FieldCode, InvalidInput, Reason
from server.logs import request_id_var
from storage import audit as store

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# Headers are client-controlled: keep the log's rows bounded.
MAX_USER_AGENT = 512
FROM_AFTER_TO = Reason("range-reversed-from", "`from` must be before `to`.")
FROM_NOT_BEFORE_TO = FieldCode("from_not_before_to", "must be before `to`")


def client_ip(conn: HTTPConnection) -> str | None:
    return conn.client.host if conn.client else None


def user_agent(conn: HTTPConnection) -> str | None:
    agent = conn.headers.get("user-agent")
    return agent[:MAX_USER_AGENT] if agent else None


async def record_access(
    con_or_pool: asyncpg.Connection | asyncpg.Pool,
    *,
    principal: Principal | None,
    action: str,
    resource_type: str,
    resource_id: str | uuid.UUID | None,
    status: int = 200,
    request: HTTPConnection | None = None,
    payload: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Record a read of (or a refused attempt at) health data; returns the chained entry.

    For services whose reads the audit middleware does not see (it only logs mutating
    requests). Name the action `<resource>.<verb>`, e.g. "medical_history.read",
    "patient_profile.read", "consultation.join_refused" (with status=403).

    Transactions: on a connection inside a transaction, the entry commits or rolls back with
    it, and other appends wait for that transaction to end (the chain head is locked), so call
    this last. A refusal must be recorded outside the transaction that rolls back: pass the pool.
    `request` (a Request or WebSocket) supplies ip, user agent and request id; `payload` is
    masked like request bodies.
    """
    entry = store.NewAuditLog(
        action=action,
        user_id=principal.user_id if principal else None,
        role=principal.role if principal else None,
        resource_type=resource_type,
        resource_id=str(resource_id) if resource_id is not None else None,
        ip_address=client_ip(request) if request else None,
        user_agent=user_agent(request) if request else None,
        request_id=request_id_var.get(),
        request_payload=mask(dict(payload)) if payload is not None else None,
        response_status=status,
    )
    return await append(con_or_pool, entry)


async def append(
    con_or_pool: asyncpg.Connection | asyncpg.Pool, entry: store.NewAuditLog
) -> AuditEntry:
    """Append a prepared entry (payload already masked); the audit middleware calls this."""
    record = await store.append_log(con_or_pool, entry)
    return AuditEntry.model_validate(dict(record))


async def search_logs(
    pool: asyncpg.Pool, principal: Principal, query: AuditQuery, request: HTTPConnection
) -> AuditPage:
    """One page of entries, newest first; reading the trail is itself audited."""
    if query.occurred_from and query.occurred_to and query.occurred_from >= query.occurred_to:
        raise InvalidInput(FROM_AFTER_TO, [FROM_NOT_BEFORE_TO.at("from", "query")])
    where = store.LogFilter(
        user_id=query.user_id,
        resource_type=query.resource_type,
        resource_id=query.resource_id,
        action=query.action,
        occurred_from=query.occurred_from,
        occurred_to=query.occurred_to,
        before_seq=int(query.cursor) if query.cursor else None,
    )
    async with pool.acquire() as con, con.transaction(readonly=True):
        records = await store.list_logs(con, where, query.limit + 1)
    items = [AuditEntry.model_validate(dict(r)) for r in records[: query.limit]]
    next_cursor = str(items[-1].seq) if len(records) > query.limit else None
    filters = query.model_dump(mode="json", exclude_none=True, by_alias=True)
    await record_access(
        pool,
        principal=principal,
        action="audit.read",
        resource_type="audit_log",
        resource_id=None,
        request=request,
        payload=filters,
    )
    return AuditPage(items=items, next_cursor=next_cursor)


async def verify_chain(pool: asyncpg.Pool) -> ChainReport:
    """Walk the chain in order: contiguous seq, links, content hashes, then the chain head.

    Reports the first broken row. Runs in one repeatable-read snapshot, so appends made while
    it runs are neither seen nor blocked.
    """
    async with pool.acquire() as con, con.transaction(isolation="repeatable_read", readonly=True):
        head = await store.chain_head(con)
        expected_seq, expected_prev, checked = 1, GENESIS_HASH, 0
        async for row in store.iter_chain(con):
            problem = _row_problem(row, expected_seq, expected_prev)
            if problem:
                return ChainReport(False, checked, head["seq"], row["seq"], row["id"], problem)
            expected_seq, expected_prev, checked = expected_seq + 1, row["hash"], checked + 1
    if head["seq"] != checked or head["hash"] != expected_prev:
        reason = (
            f"the chain head is at seq {head['seq']} but the log ends at seq {checked}: "
            "entries were removed from the end"
        )
        return ChainReport(False, checked, head["seq"], None, None, reason)
    return ChainReport(True, checked, head["seq"])


def _row_problem(row: asyncpg.Record, expected_seq: int, expected_prev: str) -> str | None:
    if row["seq"] != expected_seq:
        return f"entries {expected_seq}..{row['seq'] - 1} are missing"
    if row["prev_hash"] != expected_prev:
        return "prev_hash differs from the previous entry's hash (an entry was replaced)"
    digest = hashlib.sha256((row["prev_hash"] + row["canonical"]).encode()).hexdigest()
    if digest != row["hash"]:
        return "the entry's content does not match its hash (it was altered)"
    return None
