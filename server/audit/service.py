"""Audit rules: append entries (in the caller's transaction), list them, seal and verify the chain.

An append is a plain INSERT of an unsealed row on the caller's connection, so the entry commits
or rolls back with the change (or read) it records; `append` is the one way to write an entry.
The sealer (server/audit/sealer.py) then chains committed rows:
`hash = sha256(prev_hash || audit.canonical(row))` (storage/migrations/0013_audit_sealer.sql).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import asyncpg
from starlette.requests import HTTPConnection

from server import clock
from server.audit.context import AUDITED_REQUEST, MAX_USER_AGENT
from server.audit.masking import mask, storable
from server.audit.schemas import AuditEntry, AuditPage, AuditQuery, ChainReport
from server.auth.principal import Principal
from server.errors import FieldCode, InvalidInput, Reason, ServiceUnavailable
from server.logs import request_id_var
from server.problems import problem_responses
from storage import audit as store

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# What a refused action tells the client: the database is usually back within seconds.
RETRY_AFTER_S = 5
# `verify` reports rows still unsealed this long after they were appended. An entry's age counts
# from its INSERT, not its commit: the bound leaves room for a slow transaction (statements time
# out after 30 s) on top of the sealer's own lag (about SEAL_INTERVAL_S, server/audit/sealer.py).
MAX_UNSEALED_AGE = timedelta(seconds=60)


# The OpenAPI answer of every operation that writes an entry (server/openapi.py adds it to the
# mutating ones; routes that audit a read add it to theirs).
AUDITED = problem_responses(
    {
        503: "The access could not be recorded in the audit trail, so nothing was done or "
        "returned (fail closed); try again after `Retry-After` seconds"
    }
)


FROM_AFTER_TO = Reason("range-reversed-from", "`from` must be before `to`.")
FROM_NOT_BEFORE_TO = FieldCode("from_not_before_to", "must be before `to`")
AUDIT_DOWN = Reason(
    "audit-unavailable", "The action could not be recorded in the audit trail; try again later."
)


class AuditUnavailable(ServiceUnavailable):
    """The entry could not be written, so the action it records must not happen (fail closed)."""

    def __init__(self) -> None:
        super().__init__(AUDIT_DOWN, retry_after=RETRY_AFTER_S)


def client_ip(conn: HTTPConnection) -> str | None:
    return conn.client.host if conn.client else None


def user_agent(conn: HTTPConnection) -> str | None:
    agent = conn.headers.get("user-agent")
    return storable(agent[:MAX_USER_AGENT]) if agent else None


async def append(con: asyncpg.Connection, entry: store.NewAuditLog) -> None:
    """Write one entry on `con`, inside the caller's transaction when one is open.

    Raises AuditUnavailable (a 503 problem) when the row cannot be written; the caller's
    transaction is then aborted, so the change the entry records does not commit either.
    """
    try:
        await store.insert_log(con, entry)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        log.exception("audit entry not written: action refused", extra={"action": entry.action})
        raise AuditUnavailable() from exc


async def record_change(
    con: asyncpg.Connection, *, resource_id: object | None = None, status: int | None = None
) -> bool:
    """Record the current mutating request inside the transaction that makes its change.

    Call it in the `con.transaction()` block of the change, once the change is known to go
    through. The entry says the route's success status, or `status` for a change that commits
    before a refusal (e.g. a revocation answered 401). `resource_id` names a resource the route
    did not have in its path (e.g. the id a POST created). Outside an audited request (demo
    seeding, background tasks) there is no request to record: returns False, writes nothing.
    """
    entry = change_entry(resource_id=resource_id, status=status)
    if entry is None:
        return False
    await append(con, entry)
    change_recorded(entry)
    return True


async def record_change_for(
    con: asyncpg.Connection,
    *,
    user_id: uuid.UUID,
    role: str,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID,
    payload: Mapping[str, Any],
) -> None:
    """record_change for a change made on behalf of someone the request does not authenticate
    (e.g. the patient whose phone number sent an SMS reply): that user and role, the action
    `<resource>.<verb>`, the resource, and `payload` (masked) stand in the request's entry; from
    where, the request id and the status stay the request's, and the middleware writes no other.
    Outside an audited request the entry is written all the same, without them. Raises
    AuditUnavailable like `append` (the caller's transaction must then roll back).
    """
    entry = change_entry() or store.NewAuditLog(
        action=action, occurred_at=clock.now(), request_id=request_id_var.get()
    )
    entry = dataclasses.replace(
        entry,
        action=action,
        user_id=user_id,
        role=role,
        resource_type=resource_type,
        resource_id=str(resource_id),
        request_payload=mask(dict(payload)),
    )
    await append(con, entry)
    change_recorded(entry)


def change_entry(
    *, resource_id: object | None = None, status: int | None = None
) -> store.NewAuditLog | None:
    """The entry record_change would write, for a store function that writes it in the same
    statement as the change (e.g. scheduling.book_slot_audited); None outside an audited
    request. Once that statement succeeded, call `change_recorded(entry)`."""
    audited = AUDITED_REQUEST.get()
    if audited is None:
        return None
    if status is None:
        status = getattr(audited.scope.get("route"), "status_code", None) or 200
    return audited.entry(status, clock.now(), resource_id)


def change_recorded(entry: store.NewAuditLog) -> None:
    """`entry` (from change_entry) committed with its change: the middleware writes no other."""
    audited = AUDITED_REQUEST.get()
    if audited is not None:
        audited.recorded = entry


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
) -> None:
    """Record a read of (or a refused attempt at) health data, before the data leaves.

    For services whose reads the audit middleware does not see (it only logs mutating
    requests). Name the action `<resource>.<verb>`, e.g. "medical_history.read",
    "patient_profile.read", "consultation.join_refused" (with status=403).

    Raises AuditUnavailable when the entry cannot be written: call it before the data leaves,
    so no data is returned without its entry. On a connection inside a transaction the entry
    commits or rolls back with it; a refusal must be recorded outside the transaction that rolls
    back: pass the pool. `request` (a Request or WebSocket) supplies ip, user agent and request
    id; `payload` is masked like request bodies.
    """
    entry = store.NewAuditLog(
        action=action,
        occurred_at=clock.now(),
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
    if not isinstance(con_or_pool, asyncpg.Pool):
        await append(con_or_pool, entry)
        return
    try:
        async with con_or_pool.acquire() as con:
            await append(con, entry)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        log.exception("audit entry not written: no connection", extra={"action": action})
        raise AuditUnavailable() from exc


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
        before_append_id=int(query.cursor) if query.cursor else None,
    )
    filters = query.model_dump(mode="json", exclude_none=True, by_alias=True)
    async with pool.acquire() as con, con.transaction():
        records = await store.list_logs(con, where, query.limit + 1)
        await record_access(
            con,
            principal=principal,
            action="audit.read",
            resource_type="audit_log",
            resource_id=None,
            request=request,
            payload=filters,
        )
    items = [AuditEntry.model_validate(dict(r)) for r in records[: query.limit]]
    next_cursor = str(items[-1].append_id) if len(records) > query.limit else None
    return AuditPage(items=items, next_cursor=next_cursor)


async def verify_chain(
    pool: asyncpg.Pool, max_unsealed_age: timedelta = MAX_UNSEALED_AGE
) -> ChainReport:
    """Walk the sealed chain in order: contiguous seq, links, content hashes, the chain head;
    then look for rows left unsealed longer than `max_unsealed_age` (no sealer running).

    Reports the first problem with its row. Runs in one repeatable-read snapshot, so appends
    and seals made while it runs are neither seen nor blocked.
    """
    async with pool.acquire() as con, con.transaction(isolation="repeatable_read", readonly=True):
        head = await store.chain_head(con)
        expected_seq, expected_prev, checked = 1, GENESIS_HASH, 0
        async for row in store.iter_chain(con):
            problem = _row_problem(row, expected_seq, expected_prev, head["seq"])
            if problem:
                return ChainReport(False, checked, head["seq"], row["seq"], row["id"], problem)
            expected_seq, expected_prev, checked = expected_seq + 1, row["hash"], checked + 1
        if head["seq"] != checked or head["hash"] != expected_prev:
            reason = (
                f"the chain head is at seq {head['seq']} but the log ends at seq {checked}: "
                "entries were removed from the end"
            )
            return ChainReport(False, checked, head["seq"], None, None, reason)
        stale = await store.oldest_unsealed(con, clock.now() - max_unsealed_age)
        unsealed = await store.unsealed_count(con)
    if stale is not None:
        reason = (
            f"appended at {stale['occurred_at'].isoformat()} and still not sealed after "
            f"{max_unsealed_age.total_seconds():.0f} s ({unsealed} unsealed): is the sealer "
            "running?"
        )
        return ChainReport(False, checked, head["seq"], None, stale["id"], reason, unsealed)
    return ChainReport(True, checked, head["seq"], unsealed=unsealed)


def _row_problem(
    row: asyncpg.Record, expected_seq: int, expected_prev: str, head_seq: int
) -> str | None:
    if row["seq"] > head_seq:
        return f"the entry lies beyond the chain head (seq {head_seq}): it was inserted"
    if row["seq"] != expected_seq:
        return f"entries {expected_seq}..{row['seq'] - 1} are missing"
    if row["prev_hash"] != expected_prev:
        return "prev_hash differs from the previous entry's hash (an entry was replaced)"
    digest = hashlib.sha256((row["prev_hash"] + row["canonical"]).encode()).hexdigest()
    if digest != row["hash"]:
        return "the entry's content does not match its hash (it was altered)"
    return None
