"""SQL of the auth domain: users, sessions + refresh tokens, password resets, MFA."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

# Single statements run on the pool or inside a caller's transaction alike.
Db: TypeAlias = asyncpg.Connection | asyncpg.Pool

_USER_COLUMNS = "id, email, password_hash, role, is_verified, is_active, mfa_enabled, created_at"


@dataclass(frozen=True)
class UserRecord:
    id: uuid.UUID
    email: str
    password_hash: str
    role: str
    is_verified: bool
    is_active: bool
    mfa_enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class RefreshRecord:
    session_id: uuid.UUID
    user_id: uuid.UUID
    rotated_at: datetime | None
    current_hash: str  # the session's live refresh token (its latest)
    session_live: bool  # not revoked, not expired, account active


@dataclass(frozen=True)
class ResetRecord:
    user_id: uuid.UUID
    email: str
    expired: bool
    used: bool


@dataclass(frozen=True)
class MfaRecord:
    secret: dict[str, str]
    confirmed: bool
    last_used_step: int


def _user(row: asyncpg.Record | None) -> UserRecord | None:
    return UserRecord(**dict(row)) if row is not None else None


# --- users -------------------------------------------------------------------------------------


async def insert_user(
    db: Db, email: str, password_hash: str, role: str, is_verified: bool, now: datetime
) -> UserRecord | None:
    """The new user (created at `now`), or None when the email is taken (also under a
    concurrent insert)."""
    row = await db.fetchrow(
        f"""INSERT INTO auth.users (email, password_hash, role, is_verified, created_at,
                                    updated_at)
            VALUES ($1, $2, $3, $4, $5, $5)
            ON CONFLICT ((lower(email))) DO NOTHING
            RETURNING {_USER_COLUMNS}""",
        email,
        password_hash,
        role,
        is_verified,
        now,
    )
    return _user(row)


async def user_by_email(db: Db, email: str) -> UserRecord | None:
    row = await db.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM auth.users WHERE lower(email) = lower($1)", email
    )
    return _user(row)


async def user_by_id(db: Db, user_id: uuid.UUID) -> UserRecord | None:
    row = await db.fetchrow(f"SELECT {_USER_COLUMNS} FROM auth.users WHERE id = $1", user_id)
    return _user(row)


async def update_password_hash(
    db: Db, user_id: uuid.UUID, password_hash: str, now: datetime
) -> None:
    await db.execute(
        "UPDATE auth.users SET password_hash = $2, updated_at = $3 WHERE id = $1",
        user_id,
        password_hash,
        now,
    )


async def set_user_verified(db: Db, user_id: uuid.UUID, verified: bool, now: datetime) -> bool:
    status: str = await db.execute(
        "UPDATE auth.users SET is_verified = $2, updated_at = $3 WHERE id = $1",
        user_id,
        verified,
        now,
    )
    return status.endswith(" 1")


# --- sessions and refresh tokens ---------------------------------------------------------------


def live_session_role_sql(session_id: str, user_id: str, now: str) -> str:
    """A scalar subquery: the account's role if session `session_id` is live at `now` and
    belongs to `user_id`, else null (the arguments: SQL placeholders such as "$1"). Another
    statement can embed it to check the caller's session in its own round trip."""
    return f"""(SELECT u.role FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
                WHERE s.id = {session_id} AND s.user_id = {user_id} AND s.revoked_at IS NULL
                  AND s.expires_at > {now} AND u.is_active)"""


_LIVE_SESSION_ROLE = f"SELECT {live_session_role_sql('$1', '$2', '$3')}"


async def live_session_role(
    db: Db, session_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> str | None:
    """The account's role if `session_id` is live at `now` and belongs to `user_id`, else None."""
    role: str | None = await db.fetchval(_LIVE_SESSION_ROLE, session_id, user_id, now)
    return role


SessionCheck = tuple[uuid.UUID, uuid.UUID, datetime]  # session id, user id, now


async def check_sessions(
    con: asyncpg.Connection, checks: list[SessionCheck], *columns: str
) -> list[asyncpg.Record]:
    """One row per (session id, user id, now) of `checks`, in their order, in one statement:
    `role` as live_session_role says, and `columns` (SQL over the check `q`: q.sid, q.uid,
    q.at)."""
    selected = ", ".join((f"{live_session_role_sql('q.sid', 'q.uid', 'q.at')} AS role", *columns))
    rows: list[asyncpg.Record] = await con.fetch(
        f"""SELECT {selected}
            FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) WITH ORDINALITY
                 AS q (sid, uid, at, n)
            ORDER BY q.n""",
        [c[0] for c in checks],
        [c[1] for c in checks],
        [c[2] for c in checks],
    )
    return rows


async def live_session_roles(
    con: asyncpg.Connection, checks: list[SessionCheck]
) -> list[str | None]:
    """live_session_role for each (session id, user id, now) of `checks`, in one statement."""
    return [row["role"] for row in await check_sessions(con, checks)]


async def insert_session(
    db: Db,
    user_id: uuid.UUID,
    refresh_hash: str,
    expires_at: datetime,
    ip_address: str | None,
    user_agent: str | None,
    now: datetime,
    session_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """A session (with `session_id`, else a random id) and its first refresh token, in one
    statement, both as of `now`; None, and nothing written, if a session with `session_id`
    exists already."""
    inserted: uuid.UUID | None = await db.fetchval(
        """WITH s AS (
               INSERT INTO auth.sessions
                   (id, user_id, token_hash, expires_at, ip_address, user_agent, created_at)
               VALUES (coalesce($6, gen_random_uuid()), $1, $2, $3, $4, $5, $7)
               ON CONFLICT (id) DO NOTHING
               RETURNING id)
           INSERT INTO auth.refresh_tokens (token_hash, session_id, issued_at)
           SELECT $2, id, $7 FROM s RETURNING session_id""",
        user_id,
        refresh_hash,
        expires_at,
        ip_address,
        user_agent,
        session_id,
        now,
    )
    return inserted


async def session_exists(db: Db, session_id: uuid.UUID) -> bool:
    return bool(
        await db.fetchval("SELECT EXISTS (SELECT 1 FROM auth.sessions WHERE id = $1)", session_id)
    )


async def refresh_token_for_update(
    con: asyncpg.Connection, token_hash: str, now: datetime
) -> RefreshRecord | None:
    """Lock the token and its session (live at `now`?): concurrent refreshes are serialised."""
    row = await con.fetchrow(
        """SELECT s.id AS session_id, s.user_id, rt.rotated_at, s.token_hash AS current_hash,
                  (s.revoked_at IS NULL AND s.expires_at > $2 AND u.is_active) AS session_live
           FROM auth.refresh_tokens rt
           JOIN auth.sessions s ON s.id = rt.session_id
           JOIN auth.users u ON u.id = s.user_id
           WHERE rt.token_hash = $1
           FOR UPDATE OF rt, s""",
        token_hash,
        now,
    )
    return RefreshRecord(**dict(row)) if row is not None else None


async def rotate_refresh_token(
    con: asyncpg.Connection,
    session_id: uuid.UUID,
    old_hash: str,
    new_hash: str,
    expires_at: datetime,
    now: datetime,
) -> None:
    await con.execute(
        """WITH old AS (
               UPDATE auth.refresh_tokens SET rotated_at = $5 WHERE token_hash = $2),
           new AS (
               INSERT INTO auth.refresh_tokens (token_hash, session_id, issued_at)
               VALUES ($3, $1, $5))
           UPDATE auth.sessions
           SET token_hash = $3, expires_at = $4
           WHERE id = $1""",
        session_id,
        old_hash,
        new_hash,
        expires_at,
        now,
    )


async def revoke_session(db: Db, session_id: uuid.UUID, now: datetime) -> bool:
    status: str = await db.execute(
        "UPDATE auth.sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        session_id,
        now,
    )
    return status.endswith(" 1")


async def revoke_user_sessions(db: Db, user_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
    """Revoke every live session of the user; the ids of those it revoked."""
    rows = await db.fetch(
        """UPDATE auth.sessions SET revoked_at = $2
           WHERE user_id = $1 AND revoked_at IS NULL RETURNING id""",
        user_id,
        now,
    )
    return [r["id"] for r in rows]


async def set_user_active(
    db: Db, user_id: uuid.UUID, active: bool, now: datetime
) -> UserRecord | None:
    """Suspend (False) or reactivate (True); None when there is no such user."""
    row = await db.fetchrow(
        f"""UPDATE auth.users SET is_active = $2, updated_at = $3 WHERE id = $1
            RETURNING {_USER_COLUMNS}""",
        user_id,
        active,
        now,
    )
    return _user(row)


async def set_user_role(db: Db, user_id: uuid.UUID, role: str, now: datetime) -> UserRecord | None:
    row = await db.fetchrow(
        f"""UPDATE auth.users SET role = $2, updated_at = $3 WHERE id = $1
            RETURNING {_USER_COLUMNS}""",
        user_id,
        role,
        now,
    )
    return _user(row)


async def lock_user(db: Db, user_id: uuid.UUID) -> UserRecord | None:
    """The user's row, locked until the caller's transaction ends."""
    row = await db.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM auth.users WHERE id = $1 FOR UPDATE", user_id
    )
    return _user(row)


async def mark_reauthenticated(db: Db, session_id: uuid.UUID, at: datetime) -> None:
    await db.execute(
        "UPDATE auth.sessions SET reauthenticated_at = $2 WHERE id = $1", session_id, at
    )


async def reauthenticated_at(db: Db, session_id: uuid.UUID) -> datetime | None:
    at: datetime | None = await db.fetchval(
        "SELECT reauthenticated_at FROM auth.sessions WHERE id = $1", session_id
    )
    return at


# --- password resets ---------------------------------------------------------------------------


async def create_password_reset(
    db: Db,
    email: str,
    token_hash: str,
    expires_at: datetime,
    message_id: uuid.UUID,
    subject: str,
    params: dict[str, Any],
    now: datetime,
) -> None:
    """Store the reset and queue its email (rendered at send time from `params`), both as of
    `now`, or do nothing for an unknown address.

    One statement either way, so a known and an unknown email cost the same round trip.
    """
    await db.execute(
        """WITH target AS (
               SELECT id, email FROM auth.users WHERE lower(email) = lower($1) AND is_active),
           reset AS (
               INSERT INTO auth.password_resets (token_hash, user_id, expires_at, created_at)
               SELECT $2, id, $3, $7 FROM target
               RETURNING user_id)
           INSERT INTO notify.outbox
               (id, channel, recipient, template, subject, params, created_at)
           SELECT $4, 'email', target.email, 'password-reset', $5, $6, $7
           FROM target JOIN reset ON reset.user_id = target.id""",
        email,
        token_hash,
        expires_at,
        message_id,
        subject,
        params,
        now,
    )


async def queue_email(
    db: Db, recipient: str, template: str, subject: str, body: str, now: datetime
) -> None:
    await db.execute(
        """INSERT INTO notify.outbox (channel, recipient, template, subject, body, created_at)
           VALUES ('email', $1, $2, $3, $4, $5)""",
        recipient,
        template,
        subject,
        body,
        now,
    )


async def password_reset_for_update(
    con: asyncpg.Connection, token_hash: str, now: datetime
) -> ResetRecord | None:
    row = await con.fetchrow(
        """SELECT r.user_id, u.email, r.expires_at <= $2 AS expired,
                  r.used_at IS NOT NULL AS used
           FROM auth.password_resets r JOIN auth.users u ON u.id = r.user_id
           WHERE r.token_hash = $1 FOR UPDATE OF r""",
        token_hash,
        now,
    )
    return ResetRecord(**dict(row)) if row is not None else None


async def spend_password_resets(db: Db, user_id: uuid.UUID, now: datetime) -> None:
    """Mark every outstanding reset of the user used: one reset ends all older links too."""
    await db.execute(
        "UPDATE auth.password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL",
        user_id,
        now,
    )


# --- MFA ---------------------------------------------------------------------------------------


async def upsert_mfa_secret(
    db: Db, user_id: uuid.UUID, secret: dict[str, Any], now: datetime
) -> bool:
    """Store a new unconfirmed secret; False (nothing written) if MFA is already confirmed.

    A fresh enrolment replaces an unconfirmed one, never a confirmed one, even when racing.
    """
    stored: bool | None = await db.fetchval(
        """INSERT INTO auth.mfa_secrets (user_id, secret, created_at) VALUES ($1, $2, $3)
           ON CONFLICT (user_id) DO UPDATE
           SET secret = EXCLUDED.secret, last_used_step = 0, created_at = EXCLUDED.created_at
           WHERE auth.mfa_secrets.confirmed_at IS NULL
           RETURNING true""",
        user_id,
        secret,
        now,
    )
    return bool(stored)


async def mfa_secret_for_update(con: asyncpg.Connection, user_id: uuid.UUID) -> MfaRecord | None:
    row = await con.fetchrow(
        """SELECT secret, confirmed_at IS NOT NULL AS confirmed, last_used_step
           FROM auth.mfa_secrets WHERE user_id = $1 FOR UPDATE""",
        user_id,
    )
    return MfaRecord(**dict(row)) if row is not None else None


async def record_mfa_step(con: asyncpg.Connection, user_id: uuid.UUID, step: int) -> None:
    await con.execute(
        "UPDATE auth.mfa_secrets SET last_used_step = $2 WHERE user_id = $1", user_id, step
    )


async def enable_mfa(
    con: asyncpg.Connection, user_id: uuid.UUID, code_hashes: list[str], now: datetime
) -> None:
    await con.execute(
        "UPDATE auth.mfa_secrets SET confirmed_at = $2 WHERE user_id = $1", user_id, now
    )
    await con.execute(
        "UPDATE auth.users SET mfa_enabled = true, updated_at = $2 WHERE id = $1", user_id, now
    )
    await con.execute("DELETE FROM auth.recovery_codes WHERE user_id = $1", user_id)
    await con.executemany(
        "INSERT INTO auth.recovery_codes (user_id, code_hash) VALUES ($1, $2)",
        [(user_id, code_hash) for code_hash in code_hashes],
    )


async def disable_mfa(con: asyncpg.Connection, user_id: uuid.UUID, now: datetime) -> None:
    await con.execute("DELETE FROM auth.recovery_codes WHERE user_id = $1", user_id)
    await con.execute("DELETE FROM auth.mfa_secrets WHERE user_id = $1", user_id)
    await con.execute(
        "UPDATE auth.users SET mfa_enabled = false, updated_at = $2 WHERE id = $1", user_id, now
    )


async def use_recovery_code(db: Db, user_id: uuid.UUID, code_hash: str, now: datetime) -> bool:
    """Spend one recovery code; False when it is unknown or already spent (single use)."""
    status: str = await db.execute(
        """UPDATE auth.recovery_codes SET used_at = $3
           WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL""",
        user_id,
        code_hash,
        now,
    )
    return status.endswith(" 1")


async def erase_user(db: Db, user_id: uuid.UUID, now: datetime) -> None:
    # The e-mail is personal data too: it becomes an address that cannot receive mail, and the
    # account can never sign in again.
    await db.execute(
        """UPDATE auth.users
           SET is_active = false, email = 'erased-' || id::text || '@erased.invalid',
               password_hash = '!erased', updated_at = $2
           WHERE id = $1""",
        user_id,
        now,
    )
