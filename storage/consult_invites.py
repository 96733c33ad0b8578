"""SQL of a consultation's invitees (teleconsult.invites, migration 0024)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from storage.teleconsult import Executor

_COLUMNS = """id, session_id, invited_by, created_at, status, display_name, guest_role, user_id,
    used_at, decided_at, decided_by"""


async def insert_invite(
    con: Executor, session_id: uuid.UUID, token_hash: bytes, invited_by: uuid.UUID, now: datetime
) -> asyncpg.Record:
    row: asyncpg.Record = await con.fetchrow(
        f"""INSERT INTO teleconsult.invites (session_id, token_hash, invited_by, created_at)
            VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}""",
        session_id,
        token_hash,
        invited_by,
        now,
    )
    return row


async def invite_by_id(con: Executor, invite_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await con.fetchrow(
        f"SELECT {_COLUMNS} FROM teleconsult.invites WHERE id = $1", invite_id
    )
    return row


async def invite_by_hash(con: Executor, token_hash: bytes) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await con.fetchrow(
        f"SELECT {_COLUMNS} FROM teleconsult.invites WHERE token_hash = $1", token_hash
    )
    return row


async def invites_of(con: Executor, session_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await con.fetch(
        f"""SELECT {_COLUMNS} FROM teleconsult.invites WHERE session_id = $1
            ORDER BY created_at, id""",
        session_id,
    )
    return rows


async def seat_taken(con: asyncpg.Connection, session_id: uuid.UUID) -> bool:
    """In the caller's transaction: lock the session's guest seat (its session row, so uses of
    the session's links run one at a time) and say whether an invitee holds it (waiting or
    admitted). Without the lock two links used at once both found the seat free."""
    await con.execute(
        "SELECT 1 FROM teleconsult.sessions WHERE id = $1 FOR NO KEY UPDATE", session_id
    )
    taken: bool = await con.fetchval(
        """SELECT EXISTS (SELECT 1 FROM teleconsult.invites
                          WHERE session_id = $1 AND status IN ('waiting', 'admitted'))""",
        session_id,
    )
    return taken


async def use_invite(
    con: Executor,
    token_hash: bytes,
    display_name: str,
    guest_role: str,
    user_id: uuid.UUID | None,
    now: datetime,
) -> asyncpg.Record | None:
    """pending -> waiting, once: None when the link was used (or revoked) already."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""UPDATE teleconsult.invites
            SET status = 'waiting', display_name = $2, guest_role = $3, user_id = $4, used_at = $5
            WHERE token_hash = $1 AND status = 'pending'
            RETURNING {_COLUMNS}""",
        token_hash,
        display_name,
        guest_role,
        user_id,
        now,
    )
    return row


async def decide_invite(
    con: Executor,
    invite_id: uuid.UUID,
    from_status: tuple[str, ...],
    to_status: str,
    actor: uuid.UUID | None,
    now: datetime,
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await con.fetchrow(
        f"""UPDATE teleconsult.invites
            SET status = $3, decided_at = $4, decided_by = $5
            WHERE id = $1 AND status = ANY($2::text[])
            RETURNING {_COLUMNS}""",
        invite_id,
        list(from_status),
        to_status,
        now,
        actor,
    )
    return row


async def doctor_name(con: Executor, doctor_id: uuid.UUID) -> str | None:
    """What an invitee reads of the consultation's doctor: the name only."""
    name: str | None = await con.fetchval(
        "SELECT first_name || ' ' || last_name FROM doctors.doctors WHERE id = $1", doctor_id
    )
    return name


async def seated_guest(con: Executor, session_id: uuid.UUID) -> asyncpg.Record | None:
    """The invite whose invitee holds the call's guest seat now, with its socket."""
    row: asyncpg.Record | None = await con.fetchrow(
        """SELECT i.id, i.status, i.display_name, i.guest_role, p.sid
           FROM teleconsult.presence p JOIN teleconsult.invites i ON i.id = p.user_id
           WHERE p.session_id = $1 AND p.role = 'guest'""",
        session_id,
    )
    return row


async def seat_holder(con: Executor, session_id: uuid.UUID) -> asyncpg.Record | None:
    """The invite that holds the call's guest seat (`waiting` or `admitted`), with its socket if
    the invitee is connected now (`sid` NULL after a drop: the seat stays held)."""
    row: asyncpg.Record | None = await con.fetchrow(
        """SELECT i.id, i.status, i.display_name, i.guest_role, i.user_id, p.sid
           FROM teleconsult.invites i
           LEFT JOIN teleconsult.presence p
             ON p.session_id = i.session_id AND p.role = 'guest' AND p.user_id = i.id
           WHERE i.session_id = $1 AND i.status IN ('waiting', 'admitted')
           ORDER BY i.used_at DESC LIMIT 1""",
        session_id,
    )
    return row
