"""Admin rules: user search and administration, the verification queue, the audit chain check
and the system's health. Changes go through the owning domain (server/auth/administration.py,
server/doctors/service.py); this module reads and reports."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from starlette.requests import HTTPConnection

from bus.relay import outbox_lag
from server import clock
from server.admin.errors import BAD_CURSOR, UNKNOWN_CURSOR
from server.admin.ports import LiveSessions
from server.admin.schemas import (
    AdminUser,
    ChainVerification,
    ConsumerLag,
    EngineState,
    PendingDoctor,
    QueueQuery,
    SuspendResult,
    SystemHealth,
    UserQuery,
    UsersPage,
    VerificationQueue,
)
from server.audit.service import record_access, verify_chain
from server.auth import administration
from server.auth.principal import Principal, Role
from server.engines import Engines
from server.errors import InvalidInput
from storage import admin as store
from storage.audit import unsealed_count

log = logging.getLogger(__name__)

# An engine that does not answer within this is reported down (the page must stay quick).
PROBE_TIMEOUT_S = 2.0


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """Keyset position: `<microseconds since the epoch>.<id hex>` (exact, no float)."""
    return f"{(at - _EPOCH) // timedelta(microseconds=1)}.{row_id.hex}"


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The keyset position a `next_cursor` names; InvalidInput (422) when it is not one."""
    if cursor is None:
        return None
    try:
        micros, row_id = cursor.split(".")
        return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=row_id)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(BAD_CURSOR, [UNKNOWN_CURSOR.at("cursor", "query")]) from exc


async def search_users(pool: asyncpg.Pool, query: UserQuery) -> UsersPage:
    where = store.UserFilter(
        text=query.q, role=query.role, active=query.active, after=decode_cursor(query.cursor)
    )
    async with pool.acquire() as con, con.transaction(readonly=True):
        rows = await store.search_users(con, where, query.limit + 1)
    items = [AdminUser.model_validate(dict(r)) for r in rows[: query.limit]]
    last = items[-1] if len(rows) > query.limit else None
    return UsersPage(
        items=items, next_cursor=encode_cursor(last.created_at, last.id) if last else None
    )


async def suspend_user(
    pool: asyncpg.Pool,
    live: LiveSessions,
    admin: Principal,
    user_id: uuid.UUID,
    reason: str | None,
) -> SuspendResult:
    """Suspend, then close the account's sockets at once (after the commit: never before)."""
    user, revoked = await administration.suspend(pool, admin, user_id, reason)
    closed = await live.end_sessions(revoked)
    log.info("user suspended", extra={"user_id": str(user_id), "sockets_closed": closed})
    return SuspendResult(
        user=await _admin_user(pool, user.id),
        sessions_revoked=len(revoked),
        sockets_closed=closed,
    )


async def reactivate_user(pool: asyncpg.Pool, admin: Principal, user_id: uuid.UUID) -> AdminUser:
    await administration.reactivate(pool, admin, user_id)
    return await _admin_user(pool, user_id)


async def change_role(
    pool: asyncpg.Pool, live: LiveSessions, admin: Principal, user_id: uuid.UUID, role: Role
) -> AdminUser:
    _, revoked = await administration.change_role(pool, admin, user_id, role)
    await live.end_sessions(revoked)
    return await _admin_user(pool, user_id)


async def _admin_user(pool: asyncpg.Pool, user_id: uuid.UUID) -> AdminUser:
    async with pool.acquire() as con, con.transaction(readonly=True):
        rows = await store.search_users(con, store.UserFilter(user_id=user_id), 1)
    return AdminUser.model_validate(dict(rows[0]))


async def verification_queue(pool: asyncpg.Pool, query: QueueQuery) -> VerificationQueue:
    async with pool.acquire() as con:
        rows = await store.verification_queue(con, decode_cursor(query.cursor), query.limit + 1)
    items = [PendingDoctor.model_validate(dict(r)) for r in rows[: query.limit]]
    last = items[-1] if len(rows) > query.limit else None
    return VerificationQueue(
        items=items, next_cursor=encode_cursor(last.created_at, last.id) if last else None
    )


async def verify_audit_chain(
    pool: asyncpg.Pool, principal: Principal, request: HTTPConnection
) -> ChainVerification:
    """The CLI's `markini audit verify`, for the admin page; the check itself is audited."""
    report = await verify_chain(pool)
    await record_access(
        pool,
        principal=principal,
        action="audit.verify",
        resource_type="audit_log",
        resource_id=None,
        request=request,
        payload={"ok": report.ok, "checked": report.checked},
    )
    return ChainVerification(
        ok=report.ok,
        checked=report.checked,
        head_seq=report.head_seq,
        broken_seq=report.broken_seq,
        broken_id=report.broken_id,
        reason=report.reason,
        unsealed=report.unsealed,
        summary=report.describe(),
    )


async def system_health(engines: Engines, live: LiveSessions) -> SystemHealth:
    """Engines, outbox lag, JetStream consumer lag, audit sealing and this node's sockets."""
    postgres = await _probe("postgresql", engines.pool.fetchval("SELECT version()"))
    pending, age, unsealed = 0, 0.0, 0
    if postgres.ok:
        pending, age = await outbox_lag(engines.pool, clock.now())
        async with engines.pool.acquire() as con:
            unsealed = await unsealed_count(con)
    states = [postgres, await _nats(engines)]
    if engines.redis is not None:
        states.append(await _probe("redis", engines.redis.ping()))
    return SystemHealth(
        checked_at=clock.now(),
        engines=states,
        outbox_pending=pending,
        outbox_oldest_age_s=round(age, 3),
        consumers=await _consumers(engines) if states[1].ok else [],
        sockets=live.connected(),
        audit_unsealed=unsealed,
    )


async def _probe(name: str, answer: Any) -> EngineState:
    try:
        value = await asyncio.wait_for(answer, PROBE_TIMEOUT_S)
    except Exception as exc:  # a health report reports failures, it never raises
        return EngineState(name=name, ok=False, detail=f"error: {type(exc).__name__}")
    return EngineState(name=name, ok=True, detail=str(value).split(",")[0][:120])


async def _nats(engines: Engines) -> EngineState:
    if not engines.bus.nc.is_connected:
        return EngineState(name="nats", ok=False, detail="disconnected")
    return await _probe("nats", _stream_summary(engines))


async def _stream_summary(engines: Engines) -> str:
    info = await engines.bus.js.stream_info(engines.bus.stream)
    return f"stream {engines.bus.stream}: {info.state.messages} messages"


async def _consumers(engines: Engines) -> list[ConsumerLag]:
    try:
        infos = await asyncio.wait_for(
            engines.bus.js.consumers_info(engines.bus.stream), PROBE_TIMEOUT_S
        )
    except Exception:  # reported as no consumer data; the engine line says why
        log.warning("consumer lag unavailable", exc_info=True)
        return []
    return sorted(
        (
            ConsumerLag(
                name=info.name,
                pending=info.num_pending or 0,
                ack_pending=info.num_ack_pending or 0,
            )
            for info in infos
        ),
        key=lambda c: c.name,
    )
