"""The bell: in-app notifications per user, with read state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from storage.notify import Db

_COLUMNS = "id, kind, title, body, data, created_at, read_at"


async def add(
    db: Db,
    notification_id: uuid.UUID,
    dedup_key: str,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    data: dict[str, Any],
    now: datetime,
) -> bool:
    """Store one notification; False when its dedup key was stored before (a redelivery)."""
    inserted = await db.fetchval(
        """INSERT INTO notify.in_app (id, dedup_key, user_id, kind, title, body, data,
                                      created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (dedup_key) DO NOTHING RETURNING true""",
        notification_id,
        dedup_key,
        user_id,
        kind,
        title,
        body,
        data,
        now,
    )
    return bool(inserted)


async def page(
    db: Db, user_id: uuid.UUID, before: datetime | None, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        f"""SELECT {_COLUMNS} FROM notify.in_app
            WHERE user_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2)
            ORDER BY created_at DESC, id LIMIT $3""",
        user_id,
        before,
        limit,
    )
    return rows


async def unread_count(db: Db, user_id: uuid.UUID) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM notify.in_app WHERE user_id = $1 AND read_at IS NULL", user_id
    )
    return count


async def mark_read(db: Db, user_id: uuid.UUID, ids: list[uuid.UUID] | None, now: datetime) -> int:
    """Mark the user's notifications `ids` (None: all of them) read; returns how many changed."""
    result: str = await db.execute(
        """UPDATE notify.in_app SET read_at = $3
           WHERE user_id = $1 AND read_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2))""",
        user_id,
        ids,
        now,
    )
    return int(result.split()[-1])
