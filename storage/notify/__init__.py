"""SQL of the notify domain; this module: the auth outbox (messages queued by other domains)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True)
class QueuedMessage:
    id: uuid.UUID
    channel: str
    recipient: str
    template: str
    subject: str | None
    body: str | None  # None: rendered at send time from `params`
    params: dict[str, Any]
    created_at: datetime
    sent_at: datetime | None


async def queued_message(db: Db, message_id: uuid.UUID) -> QueuedMessage | None:
    row = await db.fetchrow(
        """SELECT id, channel, recipient, template, subject, body, params, created_at, sent_at
           FROM notify.outbox WHERE id = $1""",
        message_id,
    )
    return QueuedMessage(**dict(row)) if row is not None else None


async def claim_unsent_outbox(con: asyncpg.Connection, limit: int) -> list[uuid.UUID]:
    """Lock up to `limit` unsent auth messages for this transaction (others skip them)."""
    rows = await con.fetch(
        """SELECT id FROM notify.outbox WHERE sent_at IS NULL AND attempts < $2
           ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
        OUTBOX_MAX_ATTEMPTS,
    )
    return [r["id"] for r in rows]


# A message the provider keeps refusing is given up after this many tries (logged).
OUTBOX_MAX_ATTEMPTS = 8


async def record_outbox_result(
    con: asyncpg.Connection, message_id: uuid.UUID, sent_at: datetime | None, error: str | None
) -> None:
    await con.execute(
        """UPDATE notify.outbox SET sent_at = $2, attempts = attempts + 1, last_error = $3
           WHERE id = $1""",
        message_id,
        sent_at,
        error,
    )
