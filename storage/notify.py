"""SQL of the notify domain: the outbox of messages waiting for their sender."""

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
