"""Calendar feed secrets: one live token hash per user."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def replace_feed(
    con: asyncpg.Connection, user_id: uuid.UUID, token_hash: str, at: datetime
) -> uuid.UUID:
    """Revoke the user's live feed, if any, and open a new one; call inside a transaction."""
    await revoke_feed(con, user_id, at)
    feed_id: uuid.UUID = await con.fetchval(
        """INSERT INTO calendar.feeds (user_id, token_hash, created_at)
           VALUES ($1, $2, $3) RETURNING id""",
        user_id,
        token_hash,
        at,
    )
    return feed_id


async def revoke_feed(con: asyncpg.Connection, user_id: uuid.UUID, at: datetime) -> bool:
    status: str = await con.execute(
        "UPDATE calendar.feeds SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
        at,
    )
    return not status.endswith(" 0")


async def live_feed(con: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record | None:
    """id, created_at of the user's live feed."""
    record: asyncpg.Record | None = await con.fetchrow(
        "SELECT id, created_at FROM calendar.feeds WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
    )
    return record


async def feed_owner(con: asyncpg.Connection, token_hash: str) -> asyncpg.Record | None:
    """id, user_id, role of the live feed with this token, for an active account."""
    record: asyncpg.Record | None = await con.fetchrow(
        """SELECT f.id, f.user_id, u.role FROM calendar.feeds f
           JOIN auth.users u ON u.id = f.user_id
           WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND u.is_active""",
        token_hash,
    )
    return record
