"""Account administration for admins: suspend, reactivate, change a role; step-up re-auth.

Every change runs in one transaction with its outbox event and its audit entry. A suspension
revokes every session of the account in that transaction, so its tokens stop working at the
next request; the caller then ends the account's live sockets (server/admin/ports.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import cast

import asyncpg
from fastapi import Depends

from bus.events import USER_REACTIVATED, USER_ROLE_CHANGED, USER_SUSPENDED
from bus.outbox import emit
from server import clock
from server.audit.service import record_change
from server.auth.errors import OWN_ROLE, SELF_SUSPEND, WRONG_PASSWORD
from server.auth.events import UserRoleChanged, UserStatusChanged, user_subject
from server.auth.passwords import verify_password
from server.auth.principal import Principal, Role, require_role
from server.deps import PoolDep
from server.errors import NO_SUCH_ACCOUNT, Conflict, Forbidden, NotFound, Unauthenticated
from storage import auth as store

# Admin actions on health data need a password re-entered within this window (OWASP ASVS 4.0
# V4.3.x "step-up"); the session remembers when.
STEP_UP_WINDOW = timedelta(minutes=5)
_ADMIN = require_role("admin")


class StepUpRequired(Forbidden):
    title = "Re-authentication required"
    type = "/problems/step-up-required"


async def suspend(
    pool: asyncpg.Pool, admin: Principal, user_id: uuid.UUID, reason: str | None
) -> tuple[store.UserRecord, list[uuid.UUID]]:
    """Deactivate the account and revoke its sessions; returns it and the revoked session ids.

    Raises NotFound, Conflict (an admin suspending themself).
    """
    if user_id == admin.user_id:
        raise Conflict(SELF_SUSPEND)
    async with pool.acquire() as con, con.transaction():
        await _locked(con, user_id)
        now = clock.now()
        user = await store.set_user_active(con, user_id, False, now)
        assert user is not None  # locked above
        revoked = await store.revoke_user_sessions(con, user_id, now)
        await emit(
            con,
            USER_SUSPENDED,
            user_subject(user_id),
            UserStatusChanged(user_id=user_id, reason=reason),
            actor=str(admin.user_id),
            at=now,
        )
        await record_change(con, resource_id=user_id)
    return user, revoked


async def reactivate(pool: asyncpg.Pool, admin: Principal, user_id: uuid.UUID) -> store.UserRecord:
    """Let the account sign in again (its old sessions stay revoked). Raises NotFound."""
    async with pool.acquire() as con, con.transaction():
        await _locked(con, user_id)
        user = await store.set_user_active(con, user_id, True, clock.now())
        assert user is not None
        await emit(
            con,
            USER_REACTIVATED,
            user_subject(user_id),
            UserStatusChanged(user_id=user_id),
            actor=str(admin.user_id),
            at=clock.now(),
        )
        await record_change(con, resource_id=user_id)
    return user


async def change_role(
    pool: asyncpg.Pool, admin: Principal, user_id: uuid.UUID, role: Role
) -> tuple[store.UserRecord, list[uuid.UUID]]:
    """Give the account `role`; its sessions are revoked so every client signs in again with
    the new role (sockets joined rooms under the old one). Raises NotFound, Conflict."""
    if user_id == admin.user_id:
        raise Conflict(OWN_ROLE)
    async with pool.acquire() as con, con.transaction():
        before = await _locked(con, user_id)
        if before.role == role:
            return before, []
        now = clock.now()
        user = await store.set_user_role(con, user_id, role, now)
        assert user is not None
        revoked = await store.revoke_user_sessions(con, user_id, now)
        await emit(
            con,
            USER_ROLE_CHANGED,
            user_subject(user_id),
            UserRoleChanged(user_id=user_id, old_role=cast(Role, before.role), new_role=role),
            actor=str(admin.user_id),
            at=now,
        )
        await record_change(con, resource_id=user_id)
    return user, revoked


async def step_up(pool: asyncpg.Pool, principal: Principal, password: str) -> datetime:
    """Check the caller's password again; returns until when the step-up holds.

    Raises Unauthenticated on a wrong password (the attempt is audited like any POST).
    """
    user = await store.user_by_id(pool, principal.user_id)
    if user is None or not await verify_password(user.password_hash, password):
        raise Unauthenticated(WRONG_PASSWORD)
    now = clock.now()
    async with pool.acquire() as con, con.transaction():
        await store.mark_reauthenticated(con, principal.session_id, now)
        await record_change(con, resource_id=principal.session_id)
    return now + STEP_UP_WINDOW


async def _locked(con: asyncpg.Connection, user_id: uuid.UUID) -> store.UserRecord:
    user = await store.lock_user(con, user_id)
    if user is None:
        raise NotFound(NO_SUCH_ACCOUNT)
    return user


async def ensure_recent_step_up(db: asyncpg.Connection | asyncpg.Pool, admin: Principal) -> None:
    """StepUpRequired (403 `/problems/step-up-required`) unless `admin` re-entered their
    password within STEP_UP_WINDOW on this session."""
    at = await store.reauthenticated_at(db, admin.session_id)
    if at is None or at < clock.now() - STEP_UP_WINDOW:
        raise StepUpRequired()  # its code, `step-up-required`, says what to do


async def require_recent_step_up(
    pool: PoolDep, principal: Principal = Depends(_ADMIN)
) -> Principal:
    """Dependency: an admin who re-entered their password within STEP_UP_WINDOW (else 403
    `/problems/step-up-required`: POST /api/v1/admin/step-up, then retry)."""
    await ensure_recent_step_up(pool, principal)
    return principal
