"""Server-side sessions: opened at sign-in, rotated on refresh, revoked on logout or reuse.

A session is one refresh-token family. Each refresh spends the presented token and issues a new
one; presenting a spent token again means it leaked, so the whole session is revoked and every
token of it, access tokens included, stops working. Except just after a rotation: two tabs of one
browser refreshing at once present the same token, and the later one gets the same new pair
(settings.refresh_grace_s).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, cast

import asyncpg

from server import clock
from server.audit.service import record_change
from server.auth.errors import REFRESH_INVALID, InvalidRefreshToken
from server.auth.principal import Role
from server.auth.schemas import TokenResponse, UserOut
from server.auth.tokens import hash_token, issue_access_token, new_opaque_token, successor_token
from server.engines import Engines
from storage import auth as store

log = logging.getLogger(__name__)

# Stored for the user's "where am I signed in" view; clipped so a client cannot bloat the row.
USER_AGENT_MAX = 512


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None
    user_agent: str | None
    device_cookie: str | None = None  # server.auth.throttle: known devices are never locked out


def user_out(user: store.UserRecord) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


async def open_session(
    engines: Engines, user: store.UserRecord, client: ClientInfo
) -> TokenResponse:
    async with engines.pool.acquire() as con, con.transaction():
        tokens = await start_session(con, engines, user, client)
    assert tokens is not None, "a random session id is never taken"
    return tokens


async def start_session(
    con: asyncpg.Connection,
    engines: Engines,
    user: store.UserRecord,
    client: ClientInfo,
    session_id: uuid.UUID | None = None,
) -> TokenResponse | None:
    """Open a session in the caller's transaction (with `session_id` if given); None if that
    id is taken already (the single-use step that would have opened it was spent)."""
    settings = engines.settings
    refresh_token = new_opaque_token()
    now = clock.now()
    opened = await store.insert_session(
        con,
        user.id,
        hash_token(refresh_token),
        now + timedelta(seconds=settings.refresh_token_ttl_s),
        client.ip_address,
        (client.user_agent or "")[:USER_AGENT_MAX] or None,
        now,
        session_id,
    )
    if opened is None:
        return None
    await record_change(con, resource_id=opened)
    log.info("session opened", extra={"user_id": str(user.id), "session_id": str(opened)})
    return _tokens(engines, user, opened, refresh_token)


def _tokens(
    engines: Engines, user: store.UserRecord, session_id: uuid.UUID, refresh_token: str
) -> TokenResponse:
    settings = engines.settings
    return TokenResponse(
        access_token=issue_access_token(settings, user.id, cast(Role, user.role), session_id),
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_s,
        user=user_out(user),
    )


async def refresh_session(engines: Engines, refresh_token: str) -> TokenResponse:
    """Rotate the session's refresh token.

    The spent token presented again within `refresh_grace_s` of its rotation (two tabs
    refreshing at once) gets the same successor, as long as that successor is still the
    session's live token; any other reuse revokes the session.
    """
    settings = engines.settings
    presented = hash_token(refresh_token)
    successor = successor_token(settings, refresh_token)
    now = clock.now()
    outcome: Literal["unknown", "ended", "reused", "rotated", "repeated"]
    user: store.UserRecord | None = None
    async with engines.pool.acquire() as con, con.transaction():
        found = await store.refresh_token_for_update(con, presented, now)
        if found is None:
            outcome = "unknown"
        elif not found.session_live:
            outcome = "ended"
        elif found.rotated_at is not None:
            grace_ends = found.rotated_at + timedelta(seconds=settings.refresh_grace_s)
            if now <= grace_ends and found.current_hash == hash_token(successor):
                user = await store.user_by_id(con, found.user_id)
                outcome = "repeated"
            else:
                # Committed before we answer 401: the revocation must outlive this request.
                await store.revoke_session(con, found.session_id, now)
                await record_change(con, resource_id=found.session_id, status=401)
                outcome = "reused"
        else:
            await store.rotate_refresh_token(
                con,
                found.session_id,
                presented,
                hash_token(successor),
                now + timedelta(seconds=settings.refresh_token_ttl_s),
                now,
            )
            user = await store.user_by_id(con, found.user_id)
            await record_change(con, resource_id=found.session_id)
            outcome = "rotated"
    if outcome == "reused" and found is not None:
        log.warning(
            "refresh token reused; session revoked",
            extra={"user_id": str(found.user_id), "session_id": str(found.session_id)},
        )
    if outcome not in ("rotated", "repeated") or user is None or found is None:
        raise InvalidRefreshToken(REFRESH_INVALID)
    return _tokens(engines, user, found.session_id, successor)


async def end_session(engines: Engines, session_id: uuid.UUID) -> None:
    async with engines.pool.acquire() as con, con.transaction():
        await store.revoke_session(con, session_id, clock.now())
        await record_change(con, resource_id=session_id)
    log.info("session ended", extra={"session_id": str(session_id)})
